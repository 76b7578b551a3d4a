// nanosleep, clock_nanosleep, restart_syscall (Linux kernel/time/hrtimer.c, posix-timers.c,
// posix-cpu-timers.c). Sleeping awaits a host timer and never blocks the event loop. A
// relative sleep cut short by a signal writes the time left to `rem` and fails with
// ERESTART_RESTARTBLOCK: EINTR once a handler runs, else it goes on through restart_syscall
// until the same deadline (not for the whole time again). An absolute sleep fails with
// ERESTARTNOHAND and is simply run again. Sleeps on CPU clocks wait for the clock itself.

import { CAP_WAKE_ALARM } from '../../kernel/capabilities';
import type { Task } from '../../kernel/task';
import { SyscallError, fail } from '../../kernel/syscall_error';
import { EINTR, EINVAL, ENOTSUP as EOPNOTSUPP, EPERM, ERESTARTNOHAND, ERESTART_RESTARTBLOCK } from '../../abi/linux/errno';
import { SYS_clock_nanosleep, SYS_nanosleep, SYS_restart_syscall } from '../../abi/linux/syscall_numbers';
import {
  CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME,
  CLOCK_REALTIME_ALARM, CLOCK_TAI, TIMER_ABSTIME, cpuClockPerThread, cpuClockPid,
} from '../../abi/linux/time';
import { block } from '../../kernel/blocking';
import { setRestartBlock, takeRestartBlock } from '../../kernel/restart_block';
import { KTimer } from '../../kernel/timers/ktimer';
import type { TimerClock } from '../../kernel/timers/clock';
import type { SyscallArgs, SyscallReturn, SyscallTable } from './types';
import { clockNow, isCpuClock, timerClock } from './clocks';
import { copyInTimespec, copyOutTimespec, timespecToNs, timespecValid } from './timespec';

/** Clocks that can be slept on; the others Linux knows answer EOPNOTSUPP (no nsleep). */
const SLEEPABLE = new Set([CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI,
  CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM, CLOCK_PROCESS_CPUTIME_ID]);

/** Wait until `clock` reads `deadline`; a signal cuts it short with ERESTARTNOHAND. Wall
 *  clocks all advance with CLOCK_MONOTONIC here (the sandbox's clock cannot be set), so
 *  they wait on the kernel's precise monotonic sleep. */
function waitUntil(t: Task, clock: TimerClock, cpu: boolean, deadline: bigint): Promise<void> {
  if (!cpu) return t.kernel.sleep(t, deadline - clock.now());
  return block<void>(t, (wake) => {
    const timer = new KTimer(clock, () => { wake(); return true; });
    timer.set(deadline, 0n);
    return () => timer.destroy();
  }, { restart: ERESTARTNOHAND });
}

/** A relative sleep until `deadline`; `rem` (0 for none) gets the time left if cut short. */
async function sleepRelative(t: Task, clock: TimerClock, cpu: boolean, deadline: bigint, rem: number): Promise<number> {
  try {
    await waitUntil(t, clock, cpu, deadline);
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    if (rem !== 0) {
      const left = deadline - clock.now();
      try {
        copyOutTimespec(t, rem, left > 0n ? left : 0n);
      } catch (fault) {
        t.syscallRestart = 0;
        throw fault;
      }
    }
    if (e.errno !== ERESTARTNOHAND) throw e;
    setRestartBlock(t, (rt) => deadline - clock.now() <= 0n ? 0 : sleepRelative(rt, clock, cpu, deadline, rem));
    t.syscallRestart = ERESTART_RESTARTBLOCK;
    throw new SyscallError(ERESTART_RESTARTBLOCK);
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
  if (ns === 0n) return yieldTurn();
  const clock = timerClock(t, CLOCK_MONOTONIC);
  return sleepRelative(t, clock, false, clock.now() + ns, a.ptr(1));
}

function sysClockNanosleep(t: Task, a: SyscallArgs): SyscallReturn {
  const clockId = a.int(0);
  const flags = a.int(1);
  if (clockId >= 0 && !SLEEPABLE.has(clockId)) {
    clockNow(t, clockId); // EINVAL for an unknown id
    fail(EOPNOTSUPP);
  }
  if (clockId < 0) {
    clockNow(t, clockId);
    // posix_cpu_nsleep: not on a thread's clock, nor on the caller's own process clock.
    if (cpuClockPerThread(clockId) || cpuClockPid(clockId) === t.tg.tgid) fail(EINVAL);
  }
  const req = copyInTimespec(t, a.ptr(2));
  if (!timespecValid(req)) fail(EINVAL);
  if ((clockId === CLOCK_REALTIME_ALARM || clockId === CLOCK_BOOTTIME_ALARM) && !t.creds.hasCapability(CAP_WAKE_ALARM)) {
    fail(EPERM); // CAP_WAKE_ALARM
  }
  const clock = timerClock(t, clockId);
  const cpu = isCpuClock(clockId);
  const ns = timespecToNs(req);
  if (flags & TIMER_ABSTIME) {
    if (clock.now() >= ns) return 0;
    return waitUntil(t, clock, cpu, ns).then(() => 0);
  }
  if (ns === 0n) return yieldTurn();
  return sleepRelative(t, clock, cpu, clock.now() + ns, a.ptr(3));
}

/** restart_syscall: go on with the interrupted call's restart block; without one, EINTR
 *  (do_no_restart_syscall). */
function sysRestartSyscall(t: Task): SyscallReturn {
  const fn = takeRestartBlock(t);
  if (!fn) fail(EINTR);
  return fn(t);
}

export function registerSleep(table: SyscallTable): void {
  table[SYS_nanosleep] = { name: 'nanosleep', handler: sysNanosleep, args: ['timespec', 'outptr'] };
  table[SYS_clock_nanosleep] = {
    name: 'clock_nanosleep', handler: sysClockNanosleep, args: ['clock', 'hex', 'timespec', 'outptr'],
  };
  table[SYS_restart_syscall] = { name: 'restart_syscall', handler: sysRestartSyscall, args: [] };
}
