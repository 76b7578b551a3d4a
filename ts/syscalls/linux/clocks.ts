// The clocks clock_gettime and friends read (Linux kernel/time/posix-timers.c,
// posix-cpu-timers.c), by clock id.
//
// REALTIME, MONOTONIC and BOOTTIME come from the kernel's clocks; the COARSE, RAW, ALARM and
// TAI variants read the same clocks (TAI with the kernel's default offset of 0 s). CPU-time
// clocks are approximated: the application runs in a stub process the sentry does not
// account, so we report the sentry's own CPU time (process.cpuUsage), which covers the work
// done on the application's behalf in syscalls. It is monotonic, which is what programs that
// time intervals with it rely on; it undercounts pure user-mode computation.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL } from '../../abi/linux/errno';
import {
  CLOCKFD, CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE,
  CLOCK_MONOTONIC_RAW, CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME, CLOCK_REALTIME_ALARM,
  CLOCK_REALTIME_COARSE, CLOCK_TAI, CLOCK_THREAD_CPUTIME_ID, COARSE_RESOLUTION_NS,
  cpuClockPerThread, cpuClockPid, cpuClockWhich,
} from '../../abi/linux/time';

/** The sentry's CPU time in ns (user + system). */
export function cpuTimeNs(): bigint {
  const u = process.cpuUsage();
  return BigInt(u.user + u.system) * 1000n;
}

/** For a negative (CPU-clock) id, Linux lookup_task: a thread clock must name a thread of
 *  the caller's process, a process clock a process (or the caller itself); else EINVAL. */
function checkCpuClock(t: Task, clock: number): void {
  if (cpuClockWhich(clock) >= CLOCKFD) fail(EINVAL); // fd-backed clocks: none exist here
  const pid = cpuClockPid(clock);
  if (pid === 0) return;
  const task = t.kernel.tasks.get(pid);
  if (!task) fail(EINVAL);
  if (cpuClockPerThread(clock) ? task.tg !== t.tg : task !== t && task.tg.tgid !== pid) fail(EINVAL);
}

/** Current value of a clock in ns; EINVAL for an unknown id. */
export function clockNow(t: Task, clock: number): bigint {
  switch (clock) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_COARSE: case CLOCK_REALTIME_ALARM: case CLOCK_TAI:
      return t.kernel.realtimeNs();
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_COARSE: case CLOCK_MONOTONIC_RAW:
      return t.kernel.monotonicNs();
    case CLOCK_BOOTTIME: case CLOCK_BOOTTIME_ALARM:
      return t.kernel.uptimeNs();
    case CLOCK_PROCESS_CPUTIME_ID: case CLOCK_THREAD_CPUTIME_ID:
      return cpuTimeNs();
    default:
      if (clock >= 0) fail(EINVAL);
      checkCpuClock(t, clock);
      return cpuTimeNs();
  }
}

/** Resolution of a clock in ns: one jiffy for the coarse clocks, 1 ns for the others. */
export function clockResolution(t: Task, clock: number): bigint {
  if (clock === CLOCK_REALTIME_COARSE || clock === CLOCK_MONOTONIC_COARSE) return COARSE_RESOLUTION_NS;
  clockNow(t, clock); // validates the id
  return 1n;
}
