// Memory-file pages of a tmpfs file handled a run at a time: a run of contiguous pages is
// one crossing into Rust and one hole punched in the memfd, where a page at a time cost a
// crossing and a fallocate(2) per 4 KiB (a 256 MiB file took 65,536 of each to free).

import type { NativeMemoryFile } from '../../native/addon';

const PAGE = 4096;

/** Drops one reference from each page (memory-file offsets, any order), run by run. */
export function decRefPages(mf: NativeMemoryFile, offsets: number[]): void {
  if (offsets.length === 0) return;
  offsets.sort((a, b) => a - b);
  let start = offsets[0], end = start + PAGE;
  for (let i = 1; i < offsets.length; i++) {
    const off = offsets[i];
    if (off === end) { end += PAGE; continue; }
    mf.decRef(start, end - start);
    start = off;
    end = off + PAGE;
  }
  mf.decRef(start, end - start);
}
