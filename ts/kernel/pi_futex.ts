// Priority-inheritance futexes (Linux kernel/futex/pi.c, requeue.c): the lock word holds the
// owner's tid, FUTEX_WAITERS once someone waits in the kernel, FUTEX_OWNER_DIED once an owner
// died holding it. While there are waiters the kernel keeps a PiState (Linux pi_state): who
// owns the lock and who waits for it, and an unlock hands the lock to the first waiter by
// writing its tid into the word. The inheritance itself changes no scheduling here (the
// sentry has no priorities to boost): waiters are served in arrival order.
//
// The sentry handles one syscall at a time, so read-check-write on the word is atomic with
// respect to every other futex operation; a thread changing the word in user mode at the same
// moment is not excluded (Linux uses cmpxchg), which the user-space protocol never does
// while the word says a waiter is in the kernel.

import { EDEADLOCK as EDEADLK, EINVAL, EPERM, ESRCH } from '../abi/linux/errno';
import type { Task } from './task';
import { fail } from './syscall_error';
import { FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS } from './robust_futex';
import { removeWaiter, waitersOf } from './futex';
import { findTask, ownTid } from './ns/pid_ns';

interface PiWaiter {
  task: Task;
  /** The lock word's address in the waiter's memory. */
  uaddr: number;
  /** The lock is now the waiter's: end its wait with success. */
  grant: () => void;
}

export interface PiState {
  key: string;
  owner: Task;
  readonly waiters: PiWaiter[];
}

const states = new Map<string, PiState>();
/** Each task's pi_state_list: the states it owns, handed on when it exits. */
const owned = new WeakMap<Task, Set<PiState>>();

function setOwner(st: PiState, owner: Task): void {
  owned.get(st.owner)?.delete(st);
  st.owner = owner;
  let set = owned.get(owner);
  if (!set) owned.set(owner, set = new Set());
  set.add(st);
}

function newState(key: string, owner: Task): PiState {
  const st: PiState = { key, owner, waiters: [] };
  states.set(key, st);
  setOwner(st, owner);
  return st;
}

/** Without waiters the state goes (put_pi_state); FUTEX_WAITERS stays in the word, so the
 *  owner's unlock still comes to the kernel, which then finds nothing and writes 0. */
export function dropIfIdle(st: PiState): void {
  if (st.waiters.length > 0 || states.get(st.key) !== st) return;
  states.delete(st.key);
  owned.get(st.owner)?.delete(st);
}

export function hasPiWaiters(key: string): boolean {
  return (states.get(key)?.waiters.length ?? 0) > 0;
}

function readWord(t: Task, uaddr: number): number {
  return t.mm.readU32(uaddr);
}

/**
 * futex_lock_pi_atomic for `task` (the caller, or the top waiter of a requeue): takes a free
 * lock ('acquired'), or returns the PiState to wait on, having set FUTEX_WAITERS. With
 * setWaiters a free lock is taken with FUTEX_WAITERS set and a state for what follows.
 */
export function lockPiAtomic(t: Task, uaddr: number, key: string, task: Task,
  setWaiters: boolean): 'acquired' | PiState {
  const uval = readWord(t, uaddr);
  const tid = uval & FUTEX_TID_MASK;
  if (tid === ownTid(task)) fail(EDEADLK);
  const st = states.get(key);
  if (st) {
    // attach_to_pi_state: the word must name the owner the kernel knows.
    if (tid !== ownTid(st.owner)) fail(EINVAL);
    if ((uval & FUTEX_WAITERS) === 0) t.mm.writeU32(uaddr, (uval | FUTEX_WAITERS) >>> 0);
    return st;
  }
  if (tid === 0) {
    // Free (perhaps after its owner died: the OWNER_DIED bit stays for the new owner to see).
    t.mm.writeU32(uaddr, ((uval & FUTEX_OWNER_DIED) | ownTid(task) | (setWaiters ? FUTEX_WAITERS : 0)) >>> 0);
    if (setWaiters) newState(key, task);
    return 'acquired';
  }
  // The first waiter: FUTEX_WAITERS goes in before the owner is looked up, and stays even if
  // the owner is gone (attach_to_pi_owner, handle_exit_race).
  t.mm.writeU32(uaddr, (uval | FUTEX_WAITERS) >>> 0);
  const owner = findTask(t, tid);
  if (!owner) fail(ESRCH);
  return newState(key, owner);
}

/** Queue `w` for the lock; the returned function takes it off again (timeout, signal). */
export function queuePiWaiter(st: PiState, w: PiWaiter): () => void {
  st.waiters.push(w);
  return () => {
    const i = st.waiters.indexOf(w);
    if (i < 0) return;
    st.waiters.splice(i, 1);
    dropIfIdle(st);
  };
}

/** The first waiter gets the lock: its tid goes into its word as `word(uval)` says. */
function handOff(st: PiState, word: (uval: number) => number): void {
  const w = st.waiters.shift();
  if (!w) return;
  let uval = 0;
  try {
    uval = w.task.mm.readU32(w.uaddr);
  } catch { /* unmapped since: the waiter finds out when it touches it */ }
  try {
    w.task.mm.writeU32(w.uaddr, word(uval) >>> 0);
  } catch { /* as above */ }
  setOwner(st, w.task);
  dropIfIdle(st);
  w.grant();
}

/** FUTEX_UNLOCK_PI: the word is checked before the key is taken, as Linux does. */
export function unlockPi(t: Task, uaddr: number, keyOf: () => string): number {
  const uval = readWord(t, uaddr);
  if ((uval & FUTEX_TID_MASK) !== ownTid(t)) fail(EPERM);
  const st = states.get(keyOf());
  if (st && st.waiters.length > 0) {
    if (st.owner !== t) fail(EINVAL);
    // wake_futex_pi: WAITERS always stays while a state may exist; OWNER_DIED is cleared by
    // the owner's unlock.
    const next = ownTid(st.waiters[0].task);
    handOff(st, () => FUTEX_WAITERS | next);
    return 0;
  }
  t.mm.writeU32(uaddr, 0);
  return 0;
}

/** exit_pi_state_list: an exiting (or exec'ing) task's PI locks go to their first waiters,
 *  marked FUTEX_OWNER_DIED, robust or not. */
export function exitPiStateList(t: Task): void {
  const set = owned.get(t);
  if (!set) return;
  owned.delete(t);
  for (const st of [...set]) {
    if (st.waiters.length === 0) {
      states.delete(st.key);
      continue;
    }
    const next = ownTid(st.waiters[0].task);
    // fixup_pi_state_owner: a lock taken over from no owner says its owner died.
    handOff(st, () => FUTEX_OWNER_DIED | next | FUTEX_WAITERS);
  }
}

/**
 * FUTEX_CMP_REQUEUE_PI (nr_wake is 1, checked by the caller, as are the keys): the top waiter
 * of key1 takes the PI futex at uaddr2 if it is free, and up to nrRequeue others (one more if
 * the top waiter did not get it) wait for it on its state. Returns woken + requeued.
 */
export function cmpRequeuePi(t: Task, key1: string, uaddr2: number, key2: string, nrRequeue: number): number {
  const q = waitersOf(key1);
  const top = q[0];
  if (!top) return 0;
  const target = top.requeuePi;
  if (!target || target.requeued || target.key2 !== key2) fail(EINVAL);
  const r = lockPiAtomic(t, uaddr2, key2, target.task, nrRequeue > 0);
  let count = 0;
  let st: PiState | undefined;
  if (r === 'acquired') {
    removeWaiter(top);
    top.wake();
    count++;
    st = states.get(key2);
  } else {
    st = r;
  }
  let err = 0;
  for (const w of [...q]) {
    if (count - 1 >= nrRequeue) break;
    const rq = w.requeuePi;
    if (!rq || rq.key2 !== key2 || !st) {
      err = EINVAL;
      break;
    }
    if (st.owner === rq.task) {
      // rt_mutex_start_proxy_lock's deadlock check: the waiter owns the lock already.
      err = EDEADLK;
      break;
    }
    removeWaiter(w);
    rq.requeued = true;
    queuePiWaiter(st, { task: rq.task, uaddr: rq.uaddr2, grant: w.wake });
    count++;
  }
  if (st) dropIfIdle(st);
  if (err !== 0) fail(err);
  return count;
}

/** A requeued waiter gives up (timeout, signal): off the PI futex's list. */
export function dequeueRequeued(key2: string, task: Task): void {
  const st = states.get(key2);
  if (!st) return;
  const i = st.waiters.findIndex((w) => w.task === task);
  if (i < 0) return;
  st.waiters.splice(i, 1);
  dropIfIdle(st);
}
