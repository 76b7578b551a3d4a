// A MemoryFile kept in the Node heap, for tmpfs instances that have no real memory file (a
// kernel built by unit tests). It follows the addon's contract: reference-counted pages,
// zeroed on allocation, freed when the count drops to zero.

import * as fs from 'node:fs';
import type { NativeMemoryFile } from '../../native/addon';

const PAGE = 4096;

export class HeapMemoryFile implements NativeMemoryFile {
  private readonly pages = new Map<number, { data: Uint8Array; refs: number }>();
  private next = 0;

  allocate(pages: number): number {
    const off = this.next;
    this.next += pages * PAGE;
    for (let i = 0; i < pages; i++) this.pages.set(off + i * PAGE, { data: new Uint8Array(PAGE), refs: 1 });
    return off;
  }

  incRef(offset: number, length: number): void {
    for (let o = offset; o < offset + length; o += PAGE) this.page(o).refs++;
  }

  decRef(offset: number, length: number): void {
    for (let o = offset; o < offset + length; o += PAGE) {
      const p = this.page(o);
      if (--p.refs === 0) this.pages.delete(o);
    }
  }

  read(offset: number, dst: Uint8Array): void {
    this.each(offset, dst.length, (data, at, i, n) => dst.set(data.subarray(at, at + n), i));
  }

  write(offset: number, src: Uint8Array): void {
    this.each(offset, src.length, (data, at, i, n) => data.set(src.subarray(i, i + n), at));
  }

  readFromHostFd(hostFd: number, fileOffset: number, offset: number, length: number): number {
    const buf = new Uint8Array(length);
    const n = fs.readSync(hostFd, buf, 0, length, fileOffset);
    this.write(offset, buf.subarray(0, n));
    return n;
  }

  refCount(offset: number): number { return this.pages.get(offset - (offset % PAGE))?.refs ?? 0; }

  allocatedBytes(): number { return this.pages.size * PAGE; }

  private page(off: number): { data: Uint8Array; refs: number } {
    const p = this.pages.get(off - (off % PAGE));
    if (!p) throw new Error('EFAULT: page not allocated');
    return p;
  }

  private each(offset: number, length: number, f: (data: Uint8Array, at: number, i: number, n: number) => void): void {
    let i = 0;
    while (i < length) {
      const at = (offset + i) % PAGE;
      const n = Math.min(PAGE - at, length - i);
      f(this.page(offset + i).data, at, i, n);
      i += n;
    }
  }
}
