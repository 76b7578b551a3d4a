// Robust futex lists (Linux kernel/futex/core.c exit_robust_list, handle_futex_death): when a
// thread exits or execs, every lock on the list it registered with set_robust_list that it
// still owns gets FUTEX_OWNER_DIED, and one waiter is woken, so that the next locker sees
// EOWNERDEAD instead of waiting forever. The list lives in user memory:
//   struct robust_list_head { robust_list *next; long futex_offset; robust_list *list_op_pending; }
// each entry's lock word is at entry + futex_offset; bit 0 of a pointer marks a PI futex.

import { ownTid } from './ns/pid_ns';
import type { Task } from './task';
import { futexKey, wakeKey } from './futex';

export const FUTEX_WAITERS = 0x8000_0000;
export const FUTEX_OWNER_DIED = 0x4000_0000;
export const FUTEX_TID_MASK = 0x3fff_ffff;
/** How many entries the walk follows at most (a circular list must end). */
const ROBUST_LIST_LIMIT = 2048;

/** A user pointer from the list, or null if it cannot be read. */
function fetchEntry(t: Task, addr: number): { entry: number; pi: boolean } | null {
  try {
    const v = t.mm.readU64(addr);
    return { entry: Number(v & ~1n), pi: (v & 1n) !== 0n };
  } catch {
    return null;
  }
}

/** handle_futex_death: false when the word cannot be read (the walk stops). The word is read
 *  and written in the sentry without a cmpxchg: a thread changing it at this very moment
 *  loses its change, a window Linux closes and we do not yet. */
function handleFutexDeath(t: Task, uaddr: number, pi: boolean, pendingOp: boolean): boolean {
  if (uaddr % 4 !== 0) return false;
  let uval: number;
  try {
    uval = t.mm.readU32(uaddr);
  } catch {
    return false;
  }
  const owner = uval & FUTEX_TID_MASK;
  // An unlock (or a woken waiter) killed half-way: wake the next waiter, touch nothing.
  if (pendingOp && !pi && owner === 0) {
    wakeShared(t, uaddr);
    return true;
  }
  if (owner !== ownTid(t)) return true;
  const mval = ((uval & FUTEX_WAITERS) | FUTEX_OWNER_DIED) >>> 0;
  try {
    t.mm.writeU32(uaddr, mval);
  } catch {
    return false;
  }
  // A PI futex's waiter gets the lock from exit_pi_state_list (pi_futex.ts), not a wake.
  if (!pi && (uval & FUTEX_WAITERS) !== 0) wakeShared(t, uaddr);
  return true;
}

/** futex_wake(uaddr, FLAGS_SHARED, 1): keyed as a shared futex, which in private memory is
 *  the same key a private waiter used. */
function wakeShared(t: Task, uaddr: number): void {
  try {
    wakeKey(futexKey(t, uaddr, false), 1);
  } catch { /* unmapped: nobody can be waiting there */ }
}

/** exit_robust_list: called on exit and exec, with the task's memory still its own. */
export function exitRobustList(t: Task): void {
  const head = t.robustListHead;
  if (head === 0) return;
  t.robustListHead = 0;
  t.robustListLen = 0;
  let cur = fetchEntry(t, head);
  if (!cur) return;
  let futexOffset: number;
  try {
    futexOffset = Number(BigInt.asIntN(64, t.mm.readU64(head + 8)));
  } catch {
    return;
  }
  const pending = fetchEntry(t, head + 16);
  if (!pending) return;
  let limit = ROBUST_LIST_LIMIT;
  while (cur.entry !== head) {
    // The next pointer first: handling the entry may free it.
    const next = fetchEntry(t, cur.entry);
    if (cur.entry !== pending.entry) {
      if (!handleFutexDeath(t, cur.entry + futexOffset, cur.pi, false)) return;
    }
    if (!next) return;
    cur = next;
    if (--limit === 0) break;
  }
  if (pending.entry !== 0) handleFutexDeath(t, pending.entry + futexOffset, pending.pi, true);
}
