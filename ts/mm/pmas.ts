// Pmas: the memory-file pages actually mapped into the address space (gVisor's "platform
// mapping areas"). The Rust AddressSpace keeps the table; this file decides what goes in
// it: fresh zero pages, file contents copied on first touch, the pages a shared mapping
// owns, private copies on a copy-on-write fault, and moves for mremap.
//
// Reference counting (addon.ts): allocate() hands us one reference per page, map() takes
// its own, so every allocate is paired with a decRef once the pages are mapped.

import type { NativeAddressSpace, NativeMemoryFile } from '../native/addon';
import { errnoOfNative } from '../native/addon';
import { SyscallError } from '../kernel/syscall_error';
import { ENOMEM, ENOSPC } from '../abi/linux/errno';
import { PROT_NONE, PROT_WRITE } from '../abi/linux/mm';
import { COW_WINDOW, FAULT_WINDOW, MAX_FAULT_WINDOW, PAGE_SIZE, POPULATE_CHUNK, alignDown, pageDown } from './layout';
import { effectiveProt, type Vma } from './vma';
import { allocateShrinking } from './page_cache';
import { decRefRuns, forEachRun } from './page_runs';

export class Pmas {
  /** lookup()'s protection out-parameter, reused. */
  private readonly protOut = new Int32Array(1);
  private page: Uint8Array | null = null;
  /** holeAround's out-parameter, reused. */
  private readonly holeEnd = new Float64Array(1);
  /** Where the last fault's pages ended, and the window it used (faultAround). */
  private sequentialAt = -1;
  private window = FAULT_WINDOW;
  /** Told of every page breakCow gives its own copy (fork_hot.ts learns from it). */
  cowBroken: ((page: number) => void) | null = null;

  /** as: RELEASED_SPACE once an execve took the address space over (resetForExec). */
  constructor(readonly mf: NativeMemoryFile, public as: NativeAddressSpace) {}

  /** Memory-file offset mapped at the page holding addr (-1 if none); its prot in lastProt. */
  lookup(addr: number): number {
    return this.as.lookup(addr, this.protOut);
  }

  get lastProt(): number { return this.protOut[0]; }

  /** Protection pages of vma get in the address space (write-protected while copy-on-write). */
  hostProt(vma: Vma): number {
    const prot = effectiveProt(vma.prot);
    return vma.cow && !vma.shared ? prot & ~PROT_WRITE : prot;
  }

  /**
   * Populate the run of unmapped pages around addr, within an aligned window clipped to the
   * vma: one allocate and one map however many pages that is. The window is FAULT_WINDOW,
   * and doubles (up to MAX_FAULT_WINDOW) while each fault lands where the previous one's
   * pages ended: memory touched in order (a heap, a buffer being filled) then takes a trip
   * to the platform per 2 MiB rather than per 256 KiB, as Linux takes one fault per
   * transparent huge page. Scattered touches keep the small window, so the pages mapped
   * ahead of use (counted resident, as Linux counts its fault-around's) stay within one
   * window of what was touched.
   */
  faultAround(vma: Vma, addr: number, limit = Infinity): void {
    const page = pageDown(addr);
    // A shared file's window allocates the file's own pages (its blocks): that one stays small.
    const sequential = page === this.sequentialAt && !(vma.shared && vma.backing !== null);
    // In order: the window starts at the fault (nothing below it is missing); otherwise it
    // is the aligned one around it. (Program text in 2 MiB windows was tried: gcc hello and
    // python3 work.py took 25% and 15% more CPU for a third fewer faults.)
    this.window = sequential ? Math.min(this.window * 2, MAX_FAULT_WINDOW) : FAULT_WINDOW;
    const windowStart = sequential ? page : alignDown(addr, FAULT_WINDOW);
    const lo0 = Math.max(vma.start, windowStart);
    const hi0 = Math.min(vma.end, windowStart + this.window, limit);
    let lo = this.as.holeAround(page, lo0, Math.max(hi0, page + PAGE_SIZE), this.holeEnd);
    let hi = this.holeEnd[0];
    if (lo < 0) lo = hi = page; // mapped meanwhile: fill's map replaces the one page
    if (hi <= lo) hi = lo + PAGE_SIZE;
    try {
      this.fill(vma, lo, hi);
    } catch (e) {
      // Near the memory limit (or a tmpfs mount's size) the window may not fit where the one
      // page needed still does.
      const full = errnoOfNative(e) === 'ENOMEM' || (e instanceof SyscallError && (e.errno === ENOMEM || e.errno === ENOSPC));
      if (hi - lo === PAGE_SIZE || !full) throw e;
      this.window = FAULT_WINDOW;
      lo = page;
      hi = page + PAGE_SIZE;
      this.fill(vma, lo, hi);
    }
    this.sequentialAt = hi;
  }

  /** Populate every unmapped page of [start, end) inside vma (copy: as fill's). */
  populate(vma: Vma, start: number, end: number, copy = false): void {
    let at = start;
    while (at < end) {
      const runStart = this.as.holeAround(at, at, Math.min(end, at + POPULATE_CHUNK), this.holeEnd);
      if (runStart < 0) { at += PAGE_SIZE; continue; }
      const runEnd = this.holeEnd[0];
      this.fill(vma, at, runEnd, copy);
      this.touchShared(vma, at, runEnd);
      at = runEnd;
    }
  }

  /** Populate [start, end) of vma, known to have nothing mapped (a fresh mapping). */
  populateFresh(vma: Vma, start: number, end: number): void {
    for (let at = start; at < end; at += POPULATE_CHUNK) {
      const to = Math.min(end, at + POPULATE_CHUNK);
      this.fill(vma, at, to);
      this.touchShared(vma, at, to);
    }
  }

  /** A shared mapping's pages populated (MAP_POPULATE, mlock) are the file's, in memory as
   *  if touched: a file whose pages start untouched counts them cached (shmem_zero.ts). */
  private touchShared(vma: Vma, start: number, end: number): void {
    if (!vma.shared) return;
    for (let at = start; at < end; at += PAGE_SIZE) {
      const off = this.lookup(at);
      if (off >= 0) this.mf.populate(off, PAGE_SIZE);
    }
  }

  /** Map pages for [start, end) of vma, which must have none mapped there yet. copy: a
   *  private file mapping gets its own pages rather than the page cache's (exec's prefault of
   *  small segments: the syscall patcher and the first writes then find them private). */
  fill(vma: Vma, start: number, end: number, copy = false): void {
    const len = end - start;
    const prot = effectiveProt(vma.prot); // fresh pages are ours alone: no copy-on-write
    if (prot === PROT_NONE) return;
    if (vma.shared && vma.backing !== null) {
      this.fillShared(vma, start, end);
      return;
    }
    const backing = vma.backing;
    if (!copy && backing?.privatePages !== undefined && !((vma.prot & PROT_WRITE) !== 0 && backing.copyWhenWritable === true)) {
      const pages = backing.privatePages(this.mf, vma.offsetAt(start), len);
      if (pages !== null) {
        this.fillCached(vma, start, pages, prot);
        return;
      }
    }
    this.fillCopy(vma, start, end, prot);
  }

  /** Fresh pages for [start, end) of vma, filled from its file if it has one. */
  private fillCopy(vma: Vma, start: number, end: number, prot: number): void {
    const len = end - start;
    const off = allocateShrinking(this.mf, len / PAGE_SIZE);
    try {
      if (vma.backing !== null) vma.backing.fill(this.mf, vma.offsetAt(start), off, len);
      this.as.map(start, len, off, prot);
    } finally {
      this.mf.decRef(off, len);
    }
  }

  /** Map the page cache's pages (privatePages) at start, without write: the vma is
   *  copy-on-write from now on. Pages the cache does not give (-1) are copied. */
  private fillCached(vma: Vma, start: number, pages: number[], prot: number): void {
    vma.cow = true;
    try {
      let i = 0;
      while (i < pages.length) {
        if (pages[i] >= 0) { i++; continue; }
        let j = i + 1;
        while (j < pages.length && pages[j] < 0) j++;
        this.fillCopy(vma, start + i * PAGE_SIZE, start + j * PAGE_SIZE, prot);
        i = j;
      }
      forEachRun(pages, (k, off, n) => this.as.map(start + k * PAGE_SIZE, n * PAGE_SIZE, off, prot & ~PROT_WRITE));
    } finally {
      decRefRuns(this.mf, pages);
    }
  }

  /** A writable shared file mapping: map the file's own pages, coalescing contiguous runs. */
  private fillShared(vma: Vma, start: number, end: number): void {
    const backing = vma.backing;
    if (backing === null || backing.sharedPages === undefined) throw new Error('shared mapping without sharedPages');
    const pages = backing.sharedPages(vma.offsetAt(start), end - start);
    const prot = this.hostProt(vma);
    try {
      forEachRun(pages, (k, off, n) => this.as.map(start + k * PAGE_SIZE, n * PAGE_SIZE, off, prot));
    } finally {
      decRefRuns(this.mf, pages);
    }
  }

  /**
   * Write fault on a private page mapped read-only that nobody else holds any more (its fork
   * relative exec'd or exited, the page cache dropped it): open it for writing as it is,
   * with the pages like it in its FAULT_WINDOW, which would each fault the same way at their
   * first write (a parent writing its heap again after its child exec'd). False if the page
   * is still shared: it needs a copy (breakCow).
   */
  reuse(vma: Vma, page: number): boolean {
    const [start, end] = this.writeProtectedRun(vma, page, FAULT_WINDOW, true);
    if (end <= start) return false;
    this.as.protect(start, end - start, effectiveProt(vma.prot));
    return true;
  }

  /** Write fault on a private page mapped read-only since fork or from the page cache: give
   *  this space its own copy, and in anonymous memory the pages still shared around it in
   *  its COW_WINDOW theirs (Linux copies one page a fault, but a fault here is a trip to the
   *  platform: a process writing its heap after a fork would take one per page). A file's
   *  pages are copied one at a time: until then they show what is written to the file. */
  breakCow(vma: Vma, page: number, oldOff: number): void {
    let [start, end] = vma.backing === null ? this.writeProtectedRun(vma, page, COW_WINDOW, false) : [page, page];
    let off = -1;
    if (end - start > PAGE_SIZE) {
      try {
        off = allocateShrinking(this.mf, (end - start) / PAGE_SIZE);
      } catch (e) {
        if (errnoOfNative(e) !== 'ENOMEM') throw e; // near the limit: the one page only
      }
    }
    if (off < 0 || this.as.copyInToFile(start, off, end - start) !== end - start) {
      if (off >= 0) this.mf.decRef(off, end - start);
      [start, end] = [page, page + PAGE_SIZE];
      off = allocateShrinking(this.mf, 1);
      const buf = this.page ??= new Uint8Array(PAGE_SIZE);
      this.mf.read(oldOff, buf);
      this.mf.write(off, buf);
    }
    try {
      this.as.map(start, end - start, off, effectiveProt(vma.prot));
    } finally {
      this.mf.decRef(off, end - start);
    }
    this.cowBroken?.(page);
  }

  /** [start, end) of the pages around page in its `window`, clipped to vma, mapped without
   *  write and held by this space alone (exclusive) or with others (AddressSpace). */
  private writeProtectedRun(vma: Vma, page: number, window: number, exclusive: boolean): [number, number] {
    const at = alignDown(page, window);
    const start = this.as.writeProtectedRun(page, Math.max(vma.start, at), Math.min(vma.end, at + window), exclusive, this.holeEnd);
    return [start, this.holeEnd[0]];
  }

  /**
   * Map at `to` whatever is mapped at [from, +len), page for page (runs of contiguous
   * memory-file offsets in one call), with `prot`. The source stays mapped: the caller
   * unmaps it, after which the pages live on through the new mappings.
   */
  copyMappings(from: number, to: number, len: number, prot: number, target: NativeAddressSpace = this.as): void {
    this.as.copyMappingsTo(target, from, to, len, prot);
  }
}
