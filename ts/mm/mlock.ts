// Memory locks of an address space (Linux mm/mlock.c): VM_LOCKED and VM_LOCKONFAULT on VMAs
// (mlock splits and merges them, as /proc/<pid>/maps shows), the locked total that
// /proc/<pid>/status reports as VmLck (mm->locked_vm), and the flags mlockall(MCL_FUTURE)
// gives later mappings (mm->def_flags). Nothing is ever swapped out here, so a lock changes
// only this bookkeeping; the syscall layer (sys_mlock.ts) checks RLIMIT_MEMLOCK against it and
// faults the pages in. fork's child starts with none of it (forkMappings clears the flags).

import type { MemoryManager } from './memory_manager';

export const VM_LOCKED = 1, VM_LOCKONFAULT = 2;

const defFlags = new WeakMap<MemoryManager, number>();

/** mm->def_flags' lock bits: what a new mapping starts with. */
export function defaultLockFlags(mm: MemoryManager): number {
  return defFlags.get(mm) ?? 0;
}

export function setDefaultLockFlags(mm: MemoryManager, flags: number): void {
  defFlags.set(mm, flags);
}

/** mm->locked_vm in bytes. */
export function lockedBytes(mm: MemoryManager): number {
  let n = 0;
  for (const v of mm.vmas.all()) if (v.locked !== 0) n += v.length;
  return n;
}

/** count_mm_mlocked_page_nr, in bytes: what of [start, end) is locked already. */
export function lockedBytesIn(mm: MemoryManager, start: number, end: number): number {
  let n = 0;
  for (const v of mm.vmas.overlapping(start, end)) {
    if (v.locked !== 0) n += Math.min(end, v.end) - Math.max(start, v.start);
  }
  return n;
}

/** apply_vma_lock_flags: set the lock bits of [start, end) VMA by VMA. Like Linux it stops at
 *  the first hole, keeping what it did before it: false then (ENOMEM). */
export function applyLockFlags(mm: MemoryManager, start: number, end: number, flags: number): boolean {
  if (end === start) return true;
  if (mm.vmas.find(start) === undefined) return false;
  mm.vmas.split(start);
  mm.vmas.split(end);
  let at = start;
  let complete = true;
  for (const v of mm.vmas.overlapping(start, end)) {
    if (v.start !== at) { complete = false; break; }
    v.locked = flags;
    at = v.end;
  }
  mm.vmas.mergeAround(start, at);
  return complete && at >= end;
}

/** apply_mlockall_flags for the current mappings: every VMA gets `flags`. */
export function applyLockAll(mm: MemoryManager, flags: number): void {
  const all = mm.vmas.all();
  if (all.length === 0) return;
  for (const v of all) v.locked = flags;
  mm.vmas.mergeAround(all[0].start, all[all.length - 1].end);
}
