// anon_vma identity (Linux mm/rmap.c): which private VMAs may merge. A private VMA gets an
// AnonVma at its first anonymous page (a write fault); the pieces of a split share it; the
// child of fork gets a new one chained to the parent's. Linux merges two neighbours only if
// they share one, or one has none and the other's chain is its own (not inherited through
// fork): so /proc/pid/maps shows a forked child's VMAs and separately faulted ranges apart.

import type { Vma } from './vma';
import type { VmaSet } from './vma_set';

/** One anon_vma: compared by identity only. */
export class AnonVma {}

/** is_mergeable_anon_vma for neighbours a and b (either order). */
export function anonMergeable(a: Vma, b: Vma): boolean {
  if (a.anonVma === null) return b.anonVma === null || !b.anonForked;
  if (b.anonVma === null) return !a.anonForked;
  return a.anonVma === b.anonVma;
}

/** The anon_vma state of a and b merged into one VMA (anonMergeable said yes). */
export function mergeAnon(into: Vma, other: Vma): void {
  if (into.anonVma !== null) return;
  into.anonVma = other.anonVma;
  into.anonForked = other.anonForked;
}

/** anon_vma_prepare: vma's first anonymous page. Reuses the anon_vma of an adjacent VMA that
 *  differs at most in protection, unless that one was inherited (find_mergeable_anon_vma). */
export function prepareAnonVma(vmas: VmaSet, vma: Vma): void {
  if (vma.anonVma !== null || vma.shared) return;
  const i = vmas.lowerBound(vma.start);
  const next = vmas.at(i + 1);
  const prev = i > 0 ? vmas.at(i - 1) : undefined;
  const reuse = (a: Vma, b: Vma, old: Vma): boolean =>
    a.end === b.start && a.sameKind(b, true) && old.anonVma !== null && !old.anonForked &&
    a.offsetAt(a.end) === b.offset;
  if (next !== undefined && reuse(vma, next, next)) {
    vma.anonVma = next.anonVma;
  } else if (prev !== undefined && reuse(prev, vma, prev)) {
    vma.anonVma = prev.anonVma;
  } else {
    vma.anonVma = new AnonVma();
  }
}

/** anon_vma_fork: the child's copy c of a VMA gets its own anon_vma chained to the parent's
 *  (never singular, so never merged with a fresh neighbour); none if the parent had none, nor
 *  for MADV_WIPEONFORK, which starts the child afresh. */
export function forkAnon(c: Vma): void {
  const inherited = c.anonVma !== null && !c.wipeOnFork;
  c.anonVma = inherited ? new AnonVma() : null;
  c.anonForked = inherited;
}
