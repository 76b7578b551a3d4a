// Lists of memory-file pages (one offset per page, as MappingBacking.privatePages and
// sharedPages give them) handled a run of contiguous pages at a time: every crossing into
// the addon costs about a microsecond whatever it does (napi-rs tracks each call's borrows),
// so a 2 MiB fault window's references dropped page by page cost half a millisecond.

import type { NativeMemoryFile } from '../native/addon';
import { PAGE_SIZE } from './layout';

/** Calls fn(index, offset, count) for each run of pages[index..index+count) that are
 *  contiguous in the memory file, in order; negative entries (no page) are skipped. */
export function forEachRun(pages: readonly number[], fn: (index: number, offset: number, count: number) => void): void {
  let i = 0;
  while (i < pages.length) {
    if (pages[i] < 0) { i++; continue; }
    let j = i + 1;
    while (j < pages.length && pages[j] === pages[i] + (j - i) * PAGE_SIZE) j++;
    fn(i, pages[i], j - i);
    i = j;
  }
}

/** Drops one reference from each page of the list (negative entries have none). */
export function decRefRuns(mf: NativeMemoryFile, pages: readonly number[]): void {
  forEachRun(pages, (_i, off, n) => mf.decRef(off, n * PAGE_SIZE));
}

/** Takes one reference on each page of the list (negative entries have none). */
export function incRefRuns(mf: NativeMemoryFile, pages: readonly number[]): void {
  forEachRun(pages, (_i, off, n) => mf.incRef(off, n * PAGE_SIZE));
}
