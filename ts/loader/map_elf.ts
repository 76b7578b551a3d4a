// Mapping an ELF file's PT_LOAD segments, as Linux's load_elf_binary/load_elf_interp do.
// File pages are mapped MAP_PRIVATE from the file's backing and filled lazily on first touch,
// except in small writable or executable segments (PREFAULT_MAX, private copies) and
// read-only ones up to PREFAULT_SHARED_MAX (the page cache's pages), filled at once; the last
// file page of a segment is clipped so that bytes past p_filesz read as zero; the rest of
// p_memsz (bss) is anonymous memory.

import type { NativeMemoryFile } from '../native/addon';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE } from '../abi/linux/mm';
import { ENOMEM } from '../abi/linux/errno';
import { fail } from '../kernel/syscall_error';
import type { MappingBacking } from '../mm/backing';
import type { MemoryManager } from '../mm/memory_manager';
import { PAGE_SIZE, alignDown, pageDown, pageUp } from '../mm/layout';
import { ET_DYN, PF_R, PF_W, PF_X, PT_PHDR, PHDR_SIZE, type ElfFile, type ProgramHeader } from './elf';
import type { LoadableFile } from './loadable_file';

/** Segments up to this size are filled (with private copies) when mapped. The dynamic loader touches nearly all
 *  of itself and of a small program's data before main (relocations, GOT, .dynamic), each
 *  first touch a fault: a trap and a round trip to the stub. Filled here, inside exec's batch,
 *  the pages reach the stub with the mappings. Larger segments fault in as they are used. */
export const PREFAULT_MAX = 256 << 10;
/** Read-only segments (text, rodata) up to this size are mapped whole at exec from the page
 *  cache (no copy): a static program's text of a few hundred KiB otherwise takes a fault per
 *  FAULT_WINDOW right after exec (three for a 560 KiB glibc static text), each a trap and a
 *  round trip to the stub, where here the mappings ride in exec's batch. Fault-around maps
 *  whole windows anyway, so a program that runs through its text is as resident either way. */
export const PREFAULT_SHARED_MAX = 1 << 20;

export interface LoadedElf {
  /** What to add to the file's addresses (0 for ET_EXEC). */
  bias: number;
  entry: number;
  /** Where the program headers are in memory (AT_PHDR), 0 if they are not loaded. */
  phdrAddr: number;
  /** End of the highest segment (p_vaddr + p_memsz + bias). */
  end: number;
}

/**
 * Map elf into mm. ET_DYN goes at `base` (aligned down to the segments' p_align) if given,
 * else at the highest free place below mm.mmapBase; ET_EXEC at its own addresses.
 */
export function mapElf(mm: MemoryManager, file: LoadableFile, elf: ElfFile, base: number | null): LoadedElf {
  const first = elf.loads[0];
  const last = elf.loads[elf.loads.length - 1];
  const lo = pageDown(first.vaddr);
  const hi = pageUp(last.vaddr + last.memsz);
  let bias = 0;
  if (elf.type === ET_DYN) {
    const align = maxAlign(elf.loads);
    let start: number;
    if (base !== null) {
      start = alignDown(base, align);
    } else {
      const found = mm.findUnmapped(0, hi - lo + align - PAGE_SIZE);
      if (found < 0) fail(ENOMEM);
      start = found + (align - (found % align)) % align;
    }
    bias = start - lo;
  }
  for (const ph of elf.loads) mapSegment(mm, file.backing, ph, bias);
  return { bias, entry: elf.entry + bias, phdrAddr: phdrAddress(elf, bias), end: last.vaddr + last.memsz + bias };
}

function mapSegment(mm: MemoryManager, backing: MappingBacking, ph: ProgramHeader, bias: number): void {
  const prot = protOf(ph.flags);
  const segStart = ph.vaddr + bias;
  const mapStart = pageDown(segStart);
  let bssStart = mapStart;
  if (ph.filesz > 0) {
    const fileEnd = pageUp(segStart + ph.filesz);
    const clipped = clipBacking(backing, ph.offset + ph.filesz);
    mm.mmap(mapStart, fileEnd - mapStart, prot, MAP_PRIVATE | MAP_FIXED, clipped, ph.offset - (segStart - mapStart));
    bssStart = fileEnd;
  }
  const memEnd = pageUp(segStart + ph.memsz);
  if (memEnd > bssStart) {
    mm.mmap(bssStart, memEnd - bssStart, prot, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, null, 0);
  }
  // Best effort, as MAP_POPULATE: a page that cannot be had now faults (or fails) later.
  // Own copies where they will be written: data, and small programs' and ld.so's text, which
  // the syscall patcher writes (a cache page would cost it a copy-on-write break and a stub
  // round trip each). Read-only data (rodata, the headers' segment) never is: the cache's
  // pages, with no read of the file and no copy at each exec.
  const size = memEnd - mapStart;
  if ((prot & PROT_WRITE) === 0 && ((prot & PROT_EXEC) === 0 || size > PREFAULT_MAX)) {
    if (size <= PREFAULT_SHARED_MAX) mm.populateRange(mapStart, memEnd);
  } else if (size <= PREFAULT_MAX) {
    mm.populateRange(mapStart, memEnd, true);
  }
}

/** The file as seen through a segment: nothing past `limit` (the end of p_filesz). */
function clipBacking(inner: MappingBacking, limit: number): MappingBacking {
  return {
    name: inner.name,
    inode: inner.inode,
    fill(mf: NativeMemoryFile, fileOffset: number, mfOffset: number, length: number): void {
      const n = Math.min(length, limit - fileOffset);
      if (n > 0) inner.fill(mf, fileOffset, mfOffset, n);
    },
    // The file's shared pages, but for the page holding the limit (and any past it), which
    // must read as zero beyond p_filesz: that one is copied.
    privatePages: inner.privatePages === undefined ? undefined
      : (mf: NativeMemoryFile, fileOffset: number, length: number): number[] | null => {
        const whole = Math.min(length, Math.max(0, pageDown(limit) - fileOffset));
        if (whole === 0) return null;
        const pages = inner.privatePages?.(mf, fileOffset, whole) ?? null;
        if (pages === null) return null;
        for (let at = whole; at < length; at += PAGE_SIZE) pages.push(-1);
        return pages;
      },
    copyWhenWritable: inner.copyWhenWritable,
    // The segment's VMAs must keep the file (its host fd) as any file mapping does: pages are
    // filled lazily, long after the loader's open description is gone.
    hold: (writableShared: boolean) => inner.hold?.(writableShared),
    drop: (writableShared: boolean) => inner.drop?.(writableShared),
  };
}

function protOf(flags: number): number {
  return ((flags & PF_R) !== 0 ? PROT_READ : 0) | ((flags & PF_W) !== 0 ? PROT_WRITE : 0) |
    ((flags & PF_X) !== 0 ? PROT_EXEC : 0);
}

/** The largest power-of-two p_align of the segments, at least a page (Linux honours it). */
function maxAlign(loads: ProgramHeader[]): number {
  let align = PAGE_SIZE;
  for (const ph of loads) {
    if (ph.align > align && Number.isInteger(Math.log2(ph.align)) && ph.align <= 2 ** 30) align = ph.align;
  }
  return align;
}

/** AT_PHDR: where the loaded file holds its program headers (as Linux 5.18+ finds it). */
function phdrAddress(elf: ElfFile, bias: number): number {
  const size = elf.phnum * PHDR_SIZE;
  for (const ph of elf.loads) {
    if (ph.offset <= elf.phoff && elf.phoff + size <= ph.offset + ph.filesz) return ph.vaddr + (elf.phoff - ph.offset) + bias;
  }
  const pt = elf.phdrs.find((ph) => ph.type === PT_PHDR);
  return pt !== undefined ? pt.vaddr + bias : 0;
}
