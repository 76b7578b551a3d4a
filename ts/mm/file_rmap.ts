// FileRmap: the address spaces that map a file (Linux's address_space.i_mmap, the reverse
// map), so that a truncate can take back the pages past the new end from every mapping of
// it: they then fault again and find nothing, SIGBUS (truncate_pagecache ->
// unmap_mapping_range with even_cows: private copies go too). The file owns one and hands
// it out in its MappingBacking; MemoryManagers join when they map the file and leave when
// they are torn down. Owns nothing else: which VMAs and pages are affected is the
// MemoryManager's business.

import type { MemoryManager } from './memory_manager';

export class FileRmap {
  private readonly spaces = new Set<MemoryManager>();

  add(mm: MemoryManager): void { this.spaces.add(mm); }

  remove(mm: MemoryManager): void { this.spaces.delete(mm); }

  /** A hole was punched over the whole pages of [from, to): shared mappings drop them. */
  punched(from: number, to: number): void {
    for (const mm of [...this.spaces]) {
      if (mm.isReleased) this.spaces.delete(mm);
      else mm.unmapFileRange(this, from, to);
    }
  }

  /** The file is now `size` bytes long: unmap every page wholly past it. */
  shrunk(size: number): void {
    for (const mm of [...this.spaces]) {
      if (mm.isReleased) this.spaces.delete(mm);
      else mm.unmapFileFrom(this, size);
    }
  }
}
