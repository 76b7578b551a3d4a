// nanosleep, clock_nanosleep (Linux kernel/time/hrtimer.c, posix-timers.c). Sleeping awaits
// the kernel's timer and never blocks the event loop. If the kernel cuts a sleep short
// (a signal, once they are delivered) the time left is written to `rem` for a relative sleep
// and the kernel's errno (EINTR or a restart code) is passed on.

import { CAP_WAKE_ALARM } from '../../kernel/capabilities';
import type { Task } from '../../kernel/task';
import { SyscallError, fail } from '../../kernel/syscall_error';
import { EINVAL, ENOTSUP as EOPNOTSUPP, EPERM } from '../../abi/linux/errno';
import { SYS_clock_nanosleep, SYS_nanosleep } from '../../abi/linux/syscall_numbers';
import {
  CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME,
  CLOCK_REALTIME_ALARM, CLOCK_TAI, TIMER_ABSTIME, cpuClockPerThread, cpuClockPid,
} from '../../abi/linux/time';
import type { SyscallArgs, SyscallReturn, SyscallTable } from './types';
import { clockNow } from './clocks';
import { copyInTimespec, copyOutTimespec, timespecToNs, timespecValid } from './timespec';

/** Clocks that can be slept on; the others Linux knows answer EOPNOTSUPP (no nsleep). */
const SLEEPABLE = new Set([CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI,
  CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM, CLOCK_PROCESS_CPUTIME_ID]);

async function sleepFor(t: Task, ns: bigint, rem: number): Promise<number> {
  const start = t.kernel.monotonicNs();
  try {
    await t.kernel.sleep(t, ns);
  } catch (e) {
    if (e instanceof SyscallError && rem !== 0) {
      const left = ns - (t.kernel.monotonicNs() - start);
      copyOutTimespec(t, rem, left > 0n ? left : 0n);
    }
    throw e;
  }
  return 0;
}

/** A zero-length sleep still gives other tasks a turn, as Linux's schedule() would. */
function yieldTurn(): Promise<number> {
  return new Promise((resolve) => setImmediate(() => resolve(0)));
}

function sysNanosleep(t: Task, a: SyscallArgs): SyscallReturn {
  const req = copyInTimespec(t, a.ptr(0));
  if (!timespecValid(req)) fail(EINVAL);
  const ns = timespecToNs(req);
  return ns === 0n ? yieldTurn() : sleepFor(t, ns, a.ptr(1));
}

function sysClockNanosleep(t: Task, a: SyscallArgs): SyscallReturn {
  const clock = a.int(0);
  const flags = a.int(1);
  if (clock >= 0 && !SLEEPABLE.has(clock)) {
    clockNow(t, clock); // EINVAL for an unknown id
    fail(EOPNOTSUPP);
  }
  if (clock < 0) {
    clockNow(t, clock);
    // posix_cpu_nsleep: not on a thread's clock, nor on the caller's own process clock.
    if (cpuClockPerThread(clock) || cpuClockPid(clock) === t.tg.tgid) fail(EINVAL);
  }
  const req = copyInTimespec(t, a.ptr(2));
  if (!timespecValid(req)) fail(EINVAL);
  if ((clock === CLOCK_REALTIME_ALARM || clock === CLOCK_BOOTTIME_ALARM) && !t.creds.hasCapability(CAP_WAKE_ALARM)) {
    fail(EPERM); // CAP_WAKE_ALARM
  }
  let ns = timespecToNs(req);
  let rem = a.ptr(3);
  if (flags & TIMER_ABSTIME) {
    ns -= clockNow(t, clock);
    rem = 0;
    if (ns <= 0n) return 0;
  }
  return ns === 0n ? yieldTurn() : sleepFor(t, ns, rem);
}

export function registerSleep(table: SyscallTable): void {
  table[SYS_nanosleep] = { name: 'nanosleep', handler: sysNanosleep, args: ['timespec', 'outptr'] };
  table[SYS_clock_nanosleep] = {
    name: 'clock_nanosleep', handler: sysClockNanosleep, args: ['clock', 'hex', 'timespec', 'outptr'],
  };
}
