// SharedCache: the page cache of a gofer file while a MAP_SHARED mapping shows it. Its pages
// live in the memory file (the only memory an application can map): every shared mapping of
// the file maps the same pages, read() and write() of the file use them for the pages they
// hold (so all of the sandbox sees one copy), and writes through a mapping reach the host
// file by write-back: on msync, on fsync/fdatasync, when the last shared mapping goes
// (munmap, exit, exec), and when the cache is dropped. write() is written through to the host at once.
// Limits: a host-side change to a page already cached is not seen until the cache is
// dropped, and two names (hard links) of one file have two caches.

import type { NativeMemoryFile } from '../../native/addon';
import type { FileData } from './file_data';
import type { MappingBacking } from '../../mm/backing';

const PAGE = 4096;
/** Most pages written back in one write (a bound on the buffer it goes through). */
const WRITE_BACK_RUN = 256;

export class SharedCache {
  /** File page index -> memory-file offset; the cache holds one reference on each. */
  private readonly pages = new Map<number, number>();

  /** data: the cache's own open of the file (made on first use); closed by onRelease. */
  constructor(private readonly mf: NativeMemoryFile, private readonly data: () => FileData, private readonly onRelease: () => void) {}

  /** The memory-file pages of [fileOffset, +length), one reference taken on each for the
   *  caller; pages not cached yet are read through `from` (a fault's backing, which may hold
   *  them staged: MappingBacking.stage), else through the cache's own open. */
  sharedPages(fileOffset: number, length: number, from?: Pick<MappingBacking, 'fill'>): number[] {
    const first = Math.floor(fileOffset / PAGE);
    const count = Math.ceil((fileOffset + length) / PAGE) - first;
    // Pages not cached yet come in runs: one allocation and one host read per run.
    for (let i = 0; i < count;) {
      if (this.pages.has(first + i)) { i++; continue; }
      let j = i + 1;
      while (j < count && !this.pages.has(first + j)) j++;
      this.fill(first + i, j - i, from);
      i = j;
    }
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const off = this.pages.get(first + i)!;
      this.mf.incRef(off, PAGE);
      out.push(off);
    }
    return out;
  }

  /** Cache file pages [index, +n) from the host, in one run of memory-file pages (page by page
   *  when no run of n is to be had). */
  private fill(index: number, n: number, from?: Pick<MappingBacking, 'fill'>): void {
    let off: number;
    try {
      off = this.mf.allocate(n);
    } catch (e) {
      if (n === 1) throw e;
      for (let k = 0; k < n; k++) this.fill(index + k, 1, from);
      return;
    }
    try {
      // The FileData's own page filler: a donated fd preads straight into the memory file.
      (from ?? this.data().backing('')).fill(this.mf, index * PAGE, off, n * PAGE);
    } catch (e) {
      this.mf.decRef(off, n * PAGE);
      throw e;
    }
    for (let k = 0; k < n; k++) this.pages.set(index + k, off + k * PAGE);
  }

  /** read(): bytes of cached pages come from the cache, the rest from the host. */
  pread(dst: Uint8Array, offset: number, size: number): number {
    const end = Math.min(offset + dst.length, size);
    if (end <= offset) return 0;
    let at = offset;
    while (at < end) {
      const index = Math.floor(at / PAGE);
      const inPage = at - index * PAGE;
      const n = Math.min(PAGE - inPage, end - at);
      const off = this.pages.get(index);
      const part = dst.subarray(at - offset, at - offset + n);
      if (off !== undefined) {
        this.mf.read(off + inPage, part);
      } else {
        const got = this.data().pread(part, at);
        if (got < n) return at - offset + got;
      }
      at += n;
    }
    return end - offset;
  }

  /** write() changed [offset, +src.length) on the host: keep cached pages the same. */
  wrote(src: Uint8Array, offset: number): void {
    for (let at = offset; at < offset + src.length;) {
      const index = Math.floor(at / PAGE);
      const inPage = at - index * PAGE;
      const n = Math.min(PAGE - inPage, offset + src.length - at);
      const off = this.pages.get(index);
      if (off !== undefined) this.mf.write(off + inPage, src.subarray(at - offset, at - offset + n));
      at += n;
    }
  }

  /** Writes every cached page back to the host, up to the file's size (a mapping cannot
   *  grow a file): one write per run of pages contiguous in the file and the memory file. */
  writeBack(): void {
    if (this.pages.size === 0) return;
    const data = this.data();
    const size = data.size();
    const indexes = [...this.pages.keys()].sort((a, b) => a - b);
    let buf = new Uint8Array(0);
    for (let i = 0; i < indexes.length;) {
      const first = indexes[i];
      if (first * PAGE >= size) break;
      const off = this.pages.get(first)!;
      let j = i + 1;
      while (j < indexes.length && j - i < WRITE_BACK_RUN && indexes[j] === first + (j - i) && this.pages.get(indexes[j]) === off + (j - i) * PAGE) j++;
      const len = Math.min((j - i) * PAGE, size - first * PAGE);
      if (buf.length < len) buf = new Uint8Array((j - i) * PAGE);
      const part = buf.subarray(0, len);
      this.mf.read(off, part);
      data.pwrite(part, first * PAGE);
      i = j;
    }
  }

  /** Write back, then let the pages go (mappings still showing them keep their own refs). */
  release(): void {
    try { this.writeBack(); } finally {
      // A run of contiguous memory-file pages is let go of in one call (one hole punched).
      const offs = [...this.pages.values()].sort((a, b) => a - b);
      for (let i = 0; i < offs.length;) {
        let j = i + 1;
        while (j < offs.length && offs[j] === offs[i] + (j - i) * PAGE) j++;
        this.mf.decRef(offs[i], (j - i) * PAGE);
        i = j;
      }
      this.pages.clear();
      this.onRelease();
    }
  }
}
