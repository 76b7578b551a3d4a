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

const PAGE = 4096;

export class SharedCache {
  /** File page index -> memory-file offset; the cache holds one reference on each. */
  private readonly pages = new Map<number, number>();

  /** data: the cache's own open of the file (made on first use); closed by onRelease. */
  constructor(private readonly mf: NativeMemoryFile, private readonly data: () => FileData, private readonly onRelease: () => void) {}

  /** The memory-file pages of [fileOffset, +length), one reference taken on each for the caller. */
  sharedPages(fileOffset: number, length: number): number[] {
    const out: number[] = [];
    for (let at = fileOffset; at < fileOffset + length; at += PAGE) {
      const off = this.page(at / PAGE);
      this.mf.incRef(off, PAGE);
      out.push(off);
    }
    return out;
  }

  private page(index: number): number {
    let off = this.pages.get(index);
    if (off !== undefined) return off;
    off = this.mf.allocate(1);
    try {
      const buf = new Uint8Array(PAGE);
      const n = this.data().pread(buf, index * PAGE);
      if (n > 0) this.mf.write(off, buf.subarray(0, n));
    } catch (e) {
      this.mf.decRef(off, PAGE);
      throw e;
    }
    this.pages.set(index, off);
    return off;
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
        const buf = new Uint8Array(PAGE);
        this.mf.read(off, buf);
        part.set(buf.subarray(inPage, inPage + n));
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
      if (off !== undefined) {
        const buf = new Uint8Array(PAGE);
        this.mf.read(off, buf);
        buf.set(src.subarray(at - offset, at - offset + n), inPage);
        this.mf.write(off, buf);
      }
      at += n;
    }
  }

  /** Writes every cached page back to the host, up to the file's size (a mapping cannot
   *  grow a file). */
  writeBack(): void {
    if (this.pages.size === 0) return;
    const data = this.data();
    const size = data.size();
    const buf = new Uint8Array(PAGE);
    for (const [index, off] of this.pages) {
      const start = index * PAGE;
      if (start >= size) continue;
      this.mf.read(off, buf);
      data.pwrite(buf.subarray(0, Math.min(PAGE, size - start)), start);
    }
  }

  /** Write back, then let the pages go (mappings still showing them keep their own refs). */
  release(): void {
    try { this.writeBack(); } finally {
      for (const off of this.pages.values()) this.mf.decRef(off, PAGE);
      this.pages.clear();
      this.onRelease();
    }
  }
}
