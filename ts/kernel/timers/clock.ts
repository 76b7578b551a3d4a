// The clocks a timer can run on (Linux k_clock): the wall clocks read from the Kernel, and
// CPU clocks of a thread or a process (posix-cpu-timers.c). A timer asks its clock what
// time it is and how long, in host wall time, it must wait at least before the clock can
// reach a value: exactly that for wall clocks; for a CPU clock a lower bound (it advances
// at most as fast as wall time per runnable task), after which the timer looks again.

import type { Kernel } from '../kernel';
import type { Task } from '../task';
import type { ThreadGroup } from '../thread_group';
import { CPUCLOCK_PROF, CPUCLOCK_VIRT } from '../../abi/linux/time';
import { processCpu, runnableTasks, threadCpu, type CpuSample } from './cpu_time';

export interface TimerClock {
  now(): bigint;
  /** Host wall ns to wait before now() may reach `at` (<= 0: it may have); null: never
   *  (the clock stopped: its thread or process is gone). */
  delayUntil(at: bigint): bigint | null;
}

export type WallClockKind = 'realtime' | 'monotonic' | 'boottime';

/** A wall clock as a task sees it: `offset` is its time namespace's (0 for realtime). */
export function wallClock(k: Kernel, kind: WallClockKind, offset = 0n): TimerClock {
  const now = kind === 'realtime' ? () => k.realtimeNs()
    : kind === 'monotonic' ? () => k.monotonicNs() + offset : () => k.uptimeNs() + offset;
  return { now, delayUntil: (at) => at - now() };
}

function pick(which: number, s: CpuSample): bigint {
  return which === CPUCLOCK_VIRT ? s.userNs : which === CPUCLOCK_PROF ? s.userNs + s.sysNs : s.userNs + s.sysNs;
}

/** A CPU clock (CPUCLOCK_PROF, VIRT or SCHED) of one thread. */
export function threadCpuClock(target: Task, which: number): TimerClock {
  let last = 0n;
  const now = (): bigint => {
    if (!target.exited) last = pick(which, threadCpu(target));
    return last;
  };
  return {
    now,
    delayUntil: (at) => target.exited ? null : at - now(),
  };
}

/** A CPU clock of a whole process: its live threads and the ones that have exited. */
export function processCpuClock(target: ThreadGroup, which: number): TimerClock {
  let last = 0n;
  const gone = (): boolean => target.zombie || target.reaped || target.exitStatus !== null;
  const now = (): bigint => {
    if (!gone()) last = pick(which, processCpu(target));
    return last;
  };
  return {
    now,
    delayUntil: (at) => gone() ? null : (at - now()) / BigInt(runnableTasks(target)),
  };
}
