// futex (Linux kernel/futex/syscalls.c, waitwake.c, requeue.c): the operations C libraries
// and Go use for locks, condition variables and thread joins. PI futexes and futex_waitv
// are not implemented (ENOSYS).

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EAGAIN, EINVAL, ENOSYS, ETIMEDOUT } from '../../abi/linux/errno';
import { SYS_futex } from '../../abi/linux/syscall_numbers';
import { CLOCK_MONOTONIC, CLOCK_REALTIME } from '../../abi/linux/time';
import {
  FUTEX_BITSET_MATCH_ANY, enqueueWaiter, futexKey, removeWaiter, requeue, wakeKey, type FutexWaiter,
} from '../../kernel/futex';
import { block } from '../../kernel/blocking';
import type { SyscallArgs, SyscallReturn, SyscallTable } from './types';
import { copyInTimespec, timespecToNs, timespecValid } from './timespec';
import { clockNow } from './clocks';

const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4,
  FUTEX_WAKE_OP = 5, FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10;
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
  if (op > 4 || cmp > 5) fail(ENOSYS);
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
  switch (cmp) {
    case 0: return old === cmparg;
    case 1: return old !== cmparg;
    case 2: return old < cmparg;
    case 3: return old <= cmparg;
    case 4: return old > cmparg;
    default: return old >= cmparg;
  }
}

function sysFutex(t: Task, a: SyscallArgs): SyscallReturn {
  const addr = a.ptr(0);
  const op = a.int(1);
  const cmd = op & FUTEX_CMD_MASK;
  const priv = (op & FUTEX_PRIVATE_FLAG) !== 0;
  const realtime = (op & FUTEX_CLOCK_REALTIME) !== 0;
  if (realtime && cmd !== FUTEX_WAIT && cmd !== FUTEX_WAIT_BITSET) fail(ENOSYS);
  const val = a.uint(2);
  const timeoutAddr = a.ptr(3);
  const addr2 = a.ptr(4);
  const val3 = a.uint(5);
  switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      let timeout: bigint | null = null;
      if (timeoutAddr !== 0) {
        const ts = copyInTimespec(t, timeoutAddr);
        if (!timespecValid(ts)) fail(EINVAL);
        timeout = timespecToNs(ts);
        // FUTEX_WAIT's timeout is relative; WAIT_BITSET's absolute on its clock.
        if (cmd === FUTEX_WAIT_BITSET) timeout -= clockNow(t, realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC);
      }
      return futexWait(t, addr, val, cmd === FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : val3, priv, timeout);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      const bitset = cmd === FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : val3;
      if (bitset === 0) fail(EINVAL);
      return wakeKey(futexKey(t, addr, priv), val | 0, bitset);
    }
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE: {
      const nWake = val | 0;
      const nRequeue = a.int(3);
      if (nWake < 0 || nRequeue < 0) fail(EINVAL);
      const from = futexKey(t, addr, priv);
      const to = futexKey(t, addr2, priv);
      if (cmd === FUTEX_CMP_REQUEUE && t.mm.readU32(addr) !== val3) fail(EAGAIN);
      return requeue(from, to, nWake, nRequeue);
    }
    case FUTEX_WAKE_OP: {
      const from = futexKey(t, addr, priv);
      const to = futexKey(t, addr2, priv);
      const nWake2 = a.int(3);
      const hit = wakeOp(t, addr2, val3, priv);
      let n = wakeKey(from, val | 0);
      if (hit) n += wakeKey(to, nWake2);
      return n;
    }
    default:
      fail(ENOSYS);
  }
}

export function registerFutex(table: SyscallTable): void {
  table[SYS_futex] = { name: 'futex', handler: sysFutex, args: ['ptr', 'hex', 'uint', 'ptr', 'ptr', 'hex'] };
}
