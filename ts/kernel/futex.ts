// Futexes (Linux kernel/futex/): wait queues keyed by a user address. A private futex (or
// any futex in private memory, as Linux's get_futex_key decides) is keyed by its address
// space and address; one in shared memory by its memory-file offset, so that processes
// mapping the same pages meet on it. The sentry runs one syscall at a time, so "compare the
// value, then queue" is atomic with respect to every wake.

import { ACCESS_READ } from '../native/addon';
import { EFAULT, EINVAL } from '../abi/linux/errno';
import type { MemoryManager } from '../mm/memory_manager';
import { PAGE_SIZE } from '../mm/layout';
import type { Task } from './task';
import { fail } from './syscall_error';
import { accessOk } from '../syscalls/linux/user_io';

export const FUTEX_BITSET_MATCH_ANY = 0xffff_ffff;

interface Waiter {
  key: string;
  bitset: number;
  wake: () => void;
  /** Set for a FUTEX_WAIT_REQUEUE_PI waiter: only FUTEX_CMP_REQUEUE_PI may move or wake it
   *  (pi_futex.ts); a plain wake or requeue that meets it fails with EINVAL. */
  requeuePi?: RequeuePiTarget;
}

export interface RequeuePiTarget {
  /** The PI futex it will own: its key, and its address in the waiter's memory. */
  key2: string;
  uaddr2: number;
  task: Task;
  /** Moved onto the PI futex's wait list: from now on the wait ends with the lock. */
  requeued: boolean;
}

const queues = new Map<string, Waiter[]>();
const mmIds = new WeakMap<MemoryManager, number>();
let nextMmId = 1;
const protOut = new Int32Array(1);

function mmId(mm: MemoryManager): number {
  let id = mmIds.get(mm);
  if (id === undefined) {
    id = nextMmId++;
    mmIds.set(mm, id);
  }
  return id;
}

/** get_futex_key: EINVAL if misaligned, EFAULT if the memory is not there. */
export function futexKey(t: Task, addr: number, priv: boolean): string {
  if (addr % 4 !== 0) fail(EINVAL);
  // get_futex_key asks only access_ok of a private key: no page is touched, so NULL or an
  // unmapped address is a valid key to wake (FUTEX_WAKE_OP with no first futex).
  if (!accessOk(addr, 4)) fail(EFAULT);
  if (!priv) {
    const vma = t.mm.vmas.find(addr);
    if (!vma) fail(EFAULT);
    if (vma.shared) {
      const as = t.mm.addressSpace;
      let off = as.lookup(addr, protOut);
      if (off < 0) {
        if (!t.mm.handleFault(addr, ACCESS_READ)) fail(EFAULT);
        off = as.lookup(addr, protOut);
        if (off < 0) fail(EFAULT);
      }
      return `s${off + (addr % PAGE_SIZE)}`;
    }
    // Private memory under a shared key: the same address space and address, but marked
    // (FUT_OFF_MMSHARED), so a shared wake does not meet a private waiter there, nor the reverse.
    return `m${mmId(t.mm)}:${addr}`;
  }
  return `p${mmId(t.mm)}:${addr}`;
}

export function enqueueWaiter(w: Waiter): void {
  let q = queues.get(w.key);
  if (!q) queues.set(w.key, q = []);
  q.push(w);
}

export function removeWaiter(w: Waiter): void {
  const q = queues.get(w.key);
  if (!q) return;
  const i = q.indexOf(w);
  if (i >= 0) q.splice(i, 1);
  if (q.length === 0) queues.delete(w.key);
}

/** The waiters queued on key, oldest first (the array is live). */
export function waitersOf(key: string): readonly Waiter[] {
  return queues.get(key) ?? [];
}

/** Wake up to n waiters on key whose bitset meets `bitset` (at least one, as Linux's loop
 *  does for n <= 0). Returns how many woke, or -EINVAL on meeting a requeue-PI waiter. */
export function wakeKey(key: string, n: number, bitset = FUTEX_BITSET_MATCH_ANY): number {
  const q = queues.get(key);
  if (!q) return 0;
  let woken = 0;
  for (const w of [...q]) {
    if (w.requeuePi) return -EINVAL;
    if ((w.bitset & bitset) === 0) continue;
    removeWaiter(w);
    w.wake();
    if (++woken >= n) break;
  }
  return woken;
}

/** futex_requeue: wake the first nWake waiters on from (none for 0), move up to nRequeue
 *  of the others to `to`. Returns woken + moved, or -EINVAL on meeting a requeue-PI waiter. */
export function requeue(from: string, to: string, nWake: number, nRequeue: number): number {
  const q = queues.get(from);
  if (!q) return 0;
  let woken = 0;
  let moved = 0;
  for (const w of [...q]) {
    if (woken + moved - nWake >= nRequeue) break;
    if (w.requeuePi) return -EINVAL;
    if (woken < nWake) {
      removeWaiter(w);
      w.wake();
      woken++;
      continue;
    }
    if (moved >= nRequeue || from === to) break;
    removeWaiter(w);
    w.key = to;
    enqueueWaiter(w);
    moved++;
  }
  return woken + moved;
}

/** FUTEX_WAKE as the exit path uses it (clear_child_tid). */
export function futexWake(t: Task, addr: number, n: number, priv: boolean): number {
  return Math.max(0, wakeKey(futexKey(t, addr, priv), n));
}

export type { Waiter as FutexWaiter };
