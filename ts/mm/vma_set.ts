// VmaSet: the VMAs of one address space, sorted by address and never overlapping, found by
// binary search. A plain array: splices are O(n) but n stays small because neighbours merge.

import { STACK_GUARD_GAP } from './layout';
import type { Vma } from './vma';
import { mergeAnon } from './anon_vma';

export class VmaSet {
  private readonly v: Vma[] = [];

  get count(): number { return this.v.length; }

  at(i: number): Vma | undefined { return this.v[i]; }

  /** All VMAs in address order (read only: do not mutate the array). */
  all(): readonly Vma[] { return this.v; }

  /** Index of the first VMA that ends above addr (count if none). */
  lowerBound(addr: number): number {
    let lo = 0;
    let hi = this.v.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.v[mid].end <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The VMA containing addr. */
  find(addr: number): Vma | undefined {
    const vma = this.v[this.lowerBound(addr)];
    return vma !== undefined && vma.start <= addr ? vma : undefined;
  }

  /** Whether no VMA overlaps [start, end). */
  isFree(start: number, end: number): boolean {
    const vma = this.v[this.lowerBound(start)];
    return vma === undefined || vma.start >= end;
  }

  /** Whether [start, end) is covered by VMAs with no hole. */
  isCovered(start: number, end: number): boolean {
    let i = this.lowerBound(start);
    let at = start;
    while (at < end) {
      const vma = this.v[i++];
      if (vma === undefined || vma.start > at) return false;
      at = vma.end;
    }
    return true;
  }

  /** Whether a new mapping may go at [start, end): free, and clear of any stack guard gap. */
  fits(start: number, end: number): boolean {
    const vma = this.v[this.lowerBound(start)];
    return vma === undefined || vma.start - (vma.growsDown ? STACK_GUARD_GAP : 0) >= end;
  }

  /** VMAs overlapping [start, end), in order (not split). */
  overlapping(start: number, end: number): Vma[] {
    const out: Vma[] = [];
    for (let i = this.lowerBound(start); i < this.v.length && this.v[i].start < end; i++) out.push(this.v[i]);
    return out;
  }

  /** Make addr a VMA boundary by splitting the VMA that straddles it. */
  split(addr: number): void {
    const i = this.lowerBound(addr);
    const vma = this.v[i];
    if (vma === undefined || vma.start >= addr) return;
    const upper = vma.slice(addr, vma.end);
    upper.backing?.hold?.(upper.mayWriteShared);
    vma.end = addr;
    this.v.splice(i + 1, 0, upper);
  }

  /** Take out everything in [start, end), splitting VMAs at the edges; returns what was taken,
   *  still holding its files: the caller hands it to release() once done with it. */
  remove(start: number, end: number): Vma[] {
    this.split(start);
    this.split(end);
    const i = this.lowerBound(start);
    let j = i;
    while (j < this.v.length && this.v[j].start < end) j++;
    return this.v.splice(i, j - i);
  }

  /** Let go of the files of VMAs that remove() took out. */
  release(removed: readonly Vma[]): void {
    for (const v of removed) v.backing?.drop?.(v.mayWriteShared);
  }

  /** Add a VMA over a free range. */
  insert(vma: Vma): void {
    const i = this.lowerBound(vma.start);
    vma.backing?.hold?.(vma.mayWriteShared);
    this.v.splice(i, 0, vma);
  }

  /** Fold together mergeable neighbours among the VMAs touching [start, end]. */
  mergeAround(start: number, end: number): void {
    let i = Math.max(0, this.lowerBound(start) - 1);
    while (i + 1 < this.v.length && this.v[i].start <= end) {
      const a = this.v[i];
      const b = this.v[i + 1];
      if (a.canMerge(b)) {
        a.end = b.end;
        a.cow = a.cow || b.cow;
        mergeAnon(a, b);
        this.v.splice(i + 1, 1);
        b.backing?.drop?.(b.mayWriteShared);
      } else {
        i++;
      }
    }
  }

  /** Highest page-aligned start of a free run of len bytes inside [lo, hi), or -1. */
  findGapTopDown(len: number, lo: number, hi: number): number {
    let j = this.lowerBound(hi);
    for (;;) {
      const upper = this.v[j];
      const gapEnd = upper === undefined ? hi
        : Math.min(hi, upper.start - (upper.growsDown ? STACK_GUARD_GAP : 0));
      const lower = j > 0 ? this.v[j - 1] : undefined;
      const gapStart = lower === undefined ? lo : Math.max(lo, lower.end);
      if (gapEnd - gapStart >= len) return gapEnd - len;
      if (lower === undefined || lower.end <= lo) return -1;
      j--;
    }
  }

  /** Lowest start of a free run of len bytes inside [lo, hi), or -1. */
  findGapBottomUp(len: number, lo: number, hi: number): number {
    let j = this.lowerBound(lo);
    for (;;) {
      const lower = j > 0 ? this.v[j - 1] : undefined;
      const gapStart = lower === undefined ? lo : Math.max(lo, lower.end);
      const upper = this.v[j];
      const gapEnd = upper === undefined ? hi
        : Math.min(hi, upper.start - (upper.growsDown ? STACK_GUARD_GAP : 0));
      if (gapEnd - gapStart >= len) return gapStart;
      if (upper === undefined || upper.start >= hi) return -1;
      j++;
    }
  }
}
