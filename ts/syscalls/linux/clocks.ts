// The clocks clock_gettime, the sleeps and the timers use (Linux kernel/time/posix-timers.c,
// posix-cpu-timers.c), by clock id.
//
// REALTIME, MONOTONIC and BOOTTIME come from the kernel's clocks; the COARSE, RAW, ALARM and
// TAI variants read the same clocks (TAI with the kernel's default offset of 0 s). CPU-time
// clocks read the sentry's accounting of each task (kernel/timers/cpu_time.ts): user time is
// approximated by the wall time the task spends running in user mode, system time by the
// time the sentry spends on its syscalls.

import { timeNsOf } from '../../kernel/ns/nsproxy';
import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread_group';
import { fail } from '../../kernel/syscall_error';
import { EINVAL } from '../../abi/linux/errno';
import {
  CLOCKFD, CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE,
  CLOCK_MONOTONIC_RAW, CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME, CLOCK_REALTIME_ALARM,
  CLOCK_REALTIME_COARSE, CLOCK_TAI, CLOCK_THREAD_CPUTIME_ID, COARSE_RESOLUTION_NS, CPUCLOCK_SCHED,
  cpuClockPerThread, cpuClockPid, cpuClockWhich,
} from '../../abi/linux/time';
import {
  processCpuClock, threadCpuClock, wallClock, type TimerClock,
} from '../../kernel/timers/clock';
import { findTask, findThreadGroup } from '../../kernel/ns/pid_ns';

/** What a CPU clock id names: one thread's or one process's clock, and which time. */
export type CpuClockTarget = { which: number } & ({ task: Task } | { tg: ThreadGroup });

/** Linux pid_for_clock: a thread clock must name a thread of the caller's process, a process
 *  clock a process (for clock_gettime also the caller's own tid); else EINVAL. */
export function cpuClockTarget(t: Task, clock: number, gettime: boolean): CpuClockTarget {
  if (clock === CLOCK_PROCESS_CPUTIME_ID) return { which: CPUCLOCK_SCHED, tg: t.tg };
  if (clock === CLOCK_THREAD_CPUTIME_ID) return { which: CPUCLOCK_SCHED, task: t };
  const which = cpuClockWhich(clock);
  if (which >= CLOCKFD) fail(EINVAL); // fd-backed clocks: none exist here
  const pid = cpuClockPid(clock);
  if (cpuClockPerThread(clock)) {
    if (pid === 0) return { which, task: t };
    const task = findTask(t, pid);
    if (!task || task.tg !== t.tg) fail(EINVAL);
    return { which, task };
  }
  if (pid === 0) return { which, tg: t.tg };
  if (gettime && pid === t.tid) return { which, tg: t.tg };
  const tg = findThreadGroup(t, pid);
  if (!tg) fail(EINVAL);
  return { which, tg };
}

/** Whether the id is a CPU-time clock (the two named ones or an encoded pid's). */
export function isCpuClock(clock: number): boolean {
  return clock < 0 || clock === CLOCK_PROCESS_CPUTIME_ID || clock === CLOCK_THREAD_CPUTIME_ID;
}

/** The clock behind an id, for timers and reads; EINVAL for an unknown id. */
export function timerClock(t: Task, clock: number): TimerClock {
  const k = t.kernel;
  switch (clock) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_COARSE: case CLOCK_REALTIME_ALARM: case CLOCK_TAI:
      return wallClock(k, 'realtime');
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_COARSE: case CLOCK_MONOTONIC_RAW:
      return wallClock(k, 'monotonic', timeNsOf(t).monotonicNs);
    case CLOCK_BOOTTIME: case CLOCK_BOOTTIME_ALARM:
      return wallClock(k, 'boottime', timeNsOf(t).boottimeNs);
    default: {
      if (clock >= 0 && !isCpuClock(clock)) fail(EINVAL);
      const target = cpuClockTarget(t, clock, true);
      return 'task' in target ? threadCpuClock(target.task, target.which) : processCpuClock(target.tg, target.which);
    }
  }
}

/** Current value of a clock in ns; EINVAL for an unknown id. */
export function clockNow(t: Task, clock: number): bigint {
  switch (clock) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_COARSE: case CLOCK_REALTIME_ALARM: case CLOCK_TAI:
      return t.kernel.realtimeNs();
    // A time namespace offsets these two (timens_add_monotonic, timens_add_boottime).
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_COARSE: case CLOCK_MONOTONIC_RAW:
      return t.kernel.monotonicNs() + timeNsOf(t).monotonicNs;
    case CLOCK_BOOTTIME: case CLOCK_BOOTTIME_ALARM:
      return t.kernel.uptimeNs() + timeNsOf(t).boottimeNs;
    default:
      return timerClock(t, clock).now();
  }
}

/** Resolution of a clock in ns: one jiffy for the coarse clocks, 1 ns for the others. */
export function clockResolution(t: Task, clock: number): bigint {
  if (clock === CLOCK_REALTIME_COARSE || clock === CLOCK_MONOTONIC_COARSE) return COARSE_RESOLUTION_NS;
  clockNow(t, clock); // validates the id
  return 1n;
}
