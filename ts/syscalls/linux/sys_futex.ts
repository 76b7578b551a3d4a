// futex (Linux kernel/futex/syscalls.c, waitwake.c, requeue.c, pi.c): the operations C
// libraries and Go use for locks, condition variables and thread joins, PI locks included
// (kernel/pi_futex.ts). futex_waitv is sys_futex_waitv.ts's.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EAGAIN, EINVAL, ENOSYS, ERESTARTNOINTR, ETIMEDOUT } from '../../abi/linux/errno';
import { SYS_futex } from '../../abi/linux/syscall_numbers';
import { CLOCK_MONOTONIC, CLOCK_REALTIME } from '../../abi/linux/time';
import {
  FUTEX_BITSET_MATCH_ANY, enqueueWaiter, futexKey, removeWaiter, requeue, wakeKey, type FutexWaiter,
} from '../../kernel/futex';
import { block } from '../../kernel/blocking';
import {
  cmpRequeuePi, dequeueRequeued, dropIfIdle, hasPiWaiters, lockPiAtomic, queuePiWaiter, unlockPi,
} from '../../kernel/pi_futex';
import { SyscallError } from '../../kernel/syscall_error';
import type { SyscallArgs, SyscallReturn, SyscallTable } from './types';
import { copyInTimespec, timespecToNs, timespecValid } from './timespec';
import { clockNow } from './clocks';

const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4,
  FUTEX_WAKE_OP = 5, FUTEX_LOCK_PI = 6, FUTEX_UNLOCK_PI = 7, FUTEX_TRYLOCK_PI = 8,
  FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10, FUTEX_WAIT_REQUEUE_PI = 11,
  FUTEX_CMP_REQUEUE_PI = 12, FUTEX_LOCK_PI2 = 13;
const FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256;
const FUTEX_CMD_MASK = ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);

/** Wait on addr while it holds val; deadline is an absolute time on `clock`, or null. */
function futexWait(t: Task, addr: number, val: number, bitset: number, priv: boolean,
  timeoutNs: bigint | null): SyscallReturn {
  if (bitset === 0) fail(EINVAL);
  const key = futexKey(t, addr, priv);
  if (t.mm.readU32(addr) !== val) fail(EAGAIN);
  if (timeoutNs !== null && timeoutNs <= 0n) fail(ETIMEDOUT);
  return block<boolean>(t, (wake) => {
    const w: FutexWaiter = { key, bitset, wake: () => wake(true) };
    enqueueWaiter(w);
    return () => removeWaiter(w);
  }, { timeoutNs: timeoutNs ?? undefined }, () => false).then((woken) => (woken ? 0 : fail(ETIMEDOUT)));
}

/** FUTEX_WAKE_OP's encoded operation on *uaddr2: returns whether the comparison holds. */
function wakeOp(t: Task, addr2: number, encoded: number, priv: boolean): boolean {
  let op = (encoded >>> 28) & 0xf;
  const cmp = (encoded >>> 24) & 0xf;
  let oparg = ((encoded >>> 12) & 0xfff) << 20 >> 20;
  const cmparg = (encoded & 0xfff) << 20 >> 20;
  if ((op & 8) !== 0) {
    op &= 7;
    // FUTEX_OP_OPARG_SHIFT: out-of-range shifts are masked, as Linux does (with a warning).
    oparg = 1 << (oparg & 31);
  }
  if (op > 4) fail(ENOSYS);
  futexKey(t, addr2, priv);
  const old = t.mm.readI32(addr2);
  let next: number;
  switch (op) {
    case 0: next = oparg; break;
    case 1: next = old + oparg; break;
    case 2: next = old | oparg; break;
    case 3: next = old & ~oparg; break;
    default: next = old ^ oparg; break;
  }
  t.mm.writeI32(addr2, next | 0);
  // An unknown comparison fails only after the operation was done, as in Linux.
  if (cmp > 5) fail(ENOSYS);
  switch (cmp) {
    case 0: return old === cmparg;
    case 1: return old !== cmparg;
    case 2: return old < cmparg;
    case 3: return old <= cmparg;
    case 4: return old > cmparg;
    default: return old >= cmparg;
  }
}

/** A count from futex.ts, or its -EINVAL for a requeue-PI waiter met on the way. */
function count(n: number): number {
  if (n < 0) fail(-n);
  return n;
}

/** FUTEX_LOCK_PI, LOCK_PI2, TRYLOCK_PI; timeoutNs is what is left of the absolute timeout. */
function futexLockPi(t: Task, addr: number, priv: boolean, timeoutNs: bigint | null,
  trylock: boolean): SyscallReturn {
  const key = futexKey(t, addr, priv);
  const st = lockPiAtomic(t, addr, key, t, false);
  if (st === 'acquired') return 0;
  if (trylock) {
    dropIfIdle(st);
    fail(EAGAIN);
  }
  return block<boolean>(t, (wake) => queuePiWaiter(st, { task: t, uaddr: addr, grant: () => wake(true) }),
    // A signal handler runs, then the lock is tried again (futex_lock_pi's ERESTARTNOINTR).
    { restart: ERESTARTNOINTR, timeoutNs: timeoutNs === null ? undefined : timeoutNs < 0n ? 0n : timeoutNs },
    () => false).then((got) => (got ? 0 : fail(ETIMEDOUT)));
}

/** FUTEX_WAIT_REQUEUE_PI: wait on addr like FUTEX_WAIT; FUTEX_CMP_REQUEUE_PI ends the wait
 *  with the PI futex at addr2 taken, at once or after waiting for it. */
function futexWaitRequeuePi(t: Task, addr: number, val: number, addr2: number, priv: boolean,
  timeoutNs: bigint | null): SyscallReturn {
  if (addr === addr2) fail(EINVAL);
  const key2 = futexKey(t, addr2, priv);
  const key = futexKey(t, addr, priv);
  if (t.mm.readU32(addr) !== val) fail(EAGAIN);
  if (key === key2) fail(EINVAL);
  const target = { key2, uaddr2: addr2, task: t, requeued: false };
  return block<boolean>(t, (wake) => {
    const w: FutexWaiter = { key, bitset: FUTEX_BITSET_MATCH_ANY, wake: () => wake(true), requeuePi: target };
    enqueueWaiter(w);
    return () => {
      if (target.requeued) dequeueRequeued(key2, t);
      else removeWaiter(w);
    };
  }, { restart: ERESTARTNOINTR, timeoutNs: timeoutNs === null ? undefined : timeoutNs < 0n ? 0n : timeoutNs },
  () => false).then((got) => (got ? 0 : fail(ETIMEDOUT)), (e: unknown) => {
    // Once requeued a signal cannot restart the call (the value changed): EWOULDBLOCK.
    if (target.requeued && e instanceof SyscallError && !t.exited) {
      t.syscallRestart = 0;
      fail(EAGAIN);
    }
    throw e;
  });
}

function hasTimeout(cmd: number): boolean {
  return cmd === FUTEX_WAIT || cmd === FUTEX_WAIT_BITSET || cmd === FUTEX_LOCK_PI ||
    cmd === FUTEX_LOCK_PI2 || cmd === FUTEX_WAIT_REQUEUE_PI;
}

/** futex_init_timeout: ns left before the timeout, from a relative (FUTEX_WAIT) or absolute
 *  time on the clock the command uses (LOCK_PI: always CLOCK_REALTIME). */
function timeoutLeft(t: Task, cmd: number, realtime: boolean, addr: number): bigint | null {
  if (addr === 0 || !hasTimeout(cmd)) return null;
  const ts = copyInTimespec(t, addr);
  if (!timespecValid(ts)) fail(EINVAL);
  const ns = timespecToNs(ts);
  if (cmd === FUTEX_WAIT) return ns;
  const clock = cmd === FUTEX_LOCK_PI || realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC;
  return ns - clockNow(t, clock);
}

function sysFutex(t: Task, a: SyscallArgs): SyscallReturn {
  const addr = a.ptr(0);
  const op = a.int(1);
  const cmd = op & FUTEX_CMD_MASK;
  const priv = (op & FUTEX_PRIVATE_FLAG) !== 0;
  const realtime = (op & FUTEX_CLOCK_REALTIME) !== 0;
  const val = a.uint(2);
  const timeoutAddr = a.ptr(3);
  const addr2 = a.ptr(4);
  const val3 = a.uint(5);
  const timeout = timeoutLeft(t, cmd, realtime, timeoutAddr);
  if (realtime && cmd !== FUTEX_WAIT && cmd !== FUTEX_WAIT_BITSET && cmd !== FUTEX_WAIT_REQUEUE_PI &&
    cmd !== FUTEX_LOCK_PI2) fail(ENOSYS);
  switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET:
      return futexWait(t, addr, val, cmd === FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : val3, priv, timeout);
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      const bitset = cmd === FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : val3;
      if (bitset === 0) fail(EINVAL);
      const key = futexKey(t, addr, priv);
      if (hasPiWaiters(key)) fail(EINVAL);
      return count(wakeKey(key, val | 0, bitset));
    }
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE: {
      const nWake = val | 0;
      const nRequeue = a.int(3);
      if (nWake < 0 || nRequeue < 0) fail(EINVAL);
      const from = futexKey(t, addr, priv);
      const to = futexKey(t, addr2, priv);
      if (cmd === FUTEX_CMP_REQUEUE && t.mm.readU32(addr) !== val3) fail(EAGAIN);
      return count(requeue(from, to, nWake, nRequeue));
    }
    case FUTEX_WAKE_OP: {
      const from = futexKey(t, addr, priv);
      const to = futexKey(t, addr2, priv);
      const nWake2 = a.int(3);
      const hit = wakeOp(t, addr2, val3, priv);
      let n = count(wakeKey(from, val | 0));
      if (hit) n += count(wakeKey(to, nWake2));
      return n;
    }
    case FUTEX_LOCK_PI:
    case FUTEX_LOCK_PI2:
      return futexLockPi(t, addr, priv, timeout, false);
    case FUTEX_TRYLOCK_PI:
      return futexLockPi(t, addr, priv, null, true);
    case FUTEX_UNLOCK_PI:
      return unlockPi(t, addr, () => futexKey(t, addr, priv));
    case FUTEX_WAIT_REQUEUE_PI:
      return futexWaitRequeuePi(t, addr, val, addr2, priv, timeout);
    case FUTEX_CMP_REQUEUE_PI: {
      const nRequeue = a.int(3);
      if ((val | 0) < 0 || nRequeue < 0) fail(EINVAL);
      if (addr === addr2 || val !== 1) fail(EINVAL);
      const key1 = futexKey(t, addr, priv);
      const key2 = futexKey(t, addr2, priv);
      if (key1 === key2) fail(EINVAL);
      if (t.mm.readU32(addr) !== val3) fail(EAGAIN);
      return cmpRequeuePi(t, key1, addr2, key2, nRequeue);
    }
    default:
      fail(ENOSYS);
  }
}

export function registerFutex(table: SyscallTable): void {
  table[SYS_futex] = { name: 'futex', handler: sysFutex, args: ['ptr', 'hex', 'uint', 'ptr', 'ptr', 'hex'] };
}
