// Timeouts of the poll family as Linux keeps them (poll_select_set_timeout and
// poll_select_finish): an absolute CLOCK_MONOTONIC deadline, and for select, pselect6 and
// ppoll the time left written back to the caller's timeval/timespec when the call ends,
// whatever its result; a zero timeout is not written back.

import type { Task } from '../task';
import { SyscallError, fail } from '../syscall_error';
import { EINTR, EINVAL, ERESTARTNOHAND } from '../../abi/linux/errno';
import { NSEC_PER_SEC } from '../../abi/linux/time';
import type { SyscallReturn } from '../../syscalls/linux/types';

export interface Timeout {
  /** Absolute deadline in ns (CLOCK_MONOTONIC), null for none (wait forever). */
  deadline: bigint | null;
  /** The relative timeout asked for was zero: nothing is written back. */
  zero: boolean;
}

export const FOREVER: Timeout = { deadline: null, zero: false };

/** A relative timeout of sec + nsec; EINVAL unless both are non-negative and nsec < 1e9
 *  (timespec64_valid after the caller's normalisation). */
export function relativeTimeout(t: Task, sec: bigint, nsec: bigint): Timeout {
  if (sec < 0n || nsec < 0n || nsec >= NSEC_PER_SEC) fail(EINVAL);
  const ns = sec * NSEC_PER_SEC + nsec;
  return { deadline: t.kernel.monotonicNs() + ns, zero: ns === 0n };
}

/** poll/epoll_wait's int milliseconds: negative waits forever. */
export function msTimeout(t: Task, ms: number): Timeout {
  if (ms < 0) return FOREVER;
  return { deadline: t.kernel.monotonicNs() + BigInt(ms) * 1_000_000n, zero: ms === 0 };
}

/** Time left before the deadline, never negative. */
export function remaining(t: Task, to: Timeout): bigint {
  if (to.deadline === null) return 0n;
  const left = to.deadline - t.kernel.monotonicNs();
  return left > 0n ? left : 0n;
}

/** poll_select_finish: once r settles, write the time left with `write` (when there is a
 *  timeout to update); if that write faults, an ERESTARTNOHAND becomes EINTR, since a
 *  restart would start the whole timeout again. sticky (STICKY_TIMEOUTS): nothing is written,
 *  as if it had faulted. */
export function finishTimeout(t: Task, to: Timeout, addr: number, r: SyscallReturn,
  write: (t: Task, addr: number, ns: bigint) => void, sticky = false): SyscallReturn {
  if (addr === 0 || to.deadline === null || to.zero) return r;
  const update = (): boolean => {
    if (sticky) return false;
    try {
      write(t, addr, remaining(t, to));
      return true;
    } catch (e) {
      if (e instanceof SyscallError) return false;
      throw e;
    }
  };
  const onError = (e: unknown): never => {
    if (!update() && e instanceof SyscallError && e.errno === ERESTARTNOHAND) {
      t.syscallRestart = 0;
      throw new SyscallError(EINTR);
    }
    throw e;
  };
  if (typeof r === 'number' || typeof r === 'bigint') {
    update();
    return r;
  }
  return r.then((v) => { update(); return v; }, onError);
}
