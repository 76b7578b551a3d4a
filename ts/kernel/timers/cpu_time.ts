// CPU time of tasks and processes (Linux task_cputime: utime, stime, summed over a thread
// group with its dead threads' times in signal_struct). The application runs in a stub
// process the host accounts, not the sentry, so the time is approximated from wall time:
// user time is the time a task spends in platform runs (from the switch to user mode to
// the event that ends it), system time the time the sentry spends handling its events,
// minus the waits of blocking syscalls. task_run.ts drives the phase changes.

import { performance } from 'node:perf_hooks';
import type { Task } from '../task';
import type { ThreadGroup } from '../thread_group';

const SYS = 0, USER = 1, IDLE = 2;

export interface CpuSample { userNs: bigint; sysNs: bigint }

export class TaskCpuTime {
  /** Accumulated milliseconds (doubles: no allocation per phase change). */
  userMs = 0;
  sysMs = 0;
  private mark = performance.now();
  private phase = SYS;

  enterUser(): void {
    const now = performance.now();
    if (this.phase === SYS) this.sysMs += now - this.mark;
    this.mark = now;
    this.phase = USER;
  }

  leaveUser(): void {
    const now = performance.now();
    if (this.phase === USER) this.userMs += now - this.mark;
    this.mark = now;
    this.phase = SYS;
  }

  /** A blocking syscall awaits: the time until wake() is nobody's CPU time. */
  sleep(): void {
    const now = performance.now();
    if (this.phase === SYS) this.sysMs += now - this.mark;
    this.mark = now;
    this.phase = IDLE;
  }

  wake(): void {
    this.mark = performance.now();
    this.phase = SYS;
  }

  /** Stop counting (the task has exited). */
  stop(): void {
    this.sleep();
  }

  /** user and system ms so far, the phase in progress included. */
  sample(): [number, number] {
    const open = performance.now() - this.mark;
    if (this.phase === USER) return [this.userMs + open, this.sysMs];
    if (this.phase === SYS) return [this.userMs, this.sysMs + open];
    return [this.userMs, this.sysMs];
  }

  /** Whether the task is in a platform run right now. */
  get running(): boolean { return this.phase === USER; }
}

const taskTimes = new WeakMap<Task, TaskCpuTime>();
/** Times of a process's threads that have exited (signal_struct utime/stime). */
const deadTimes = new WeakMap<ThreadGroup, [number, number]>();

export function taskCpuTime(t: Task): TaskCpuTime {
  let c = taskTimes.get(t);
  if (!c) {
    c = new TaskCpuTime();
    taskTimes.set(t, c);
  }
  return c;
}

/** A task has stopped for good: its time stays with its process. */
export function chargeExitedTask(t: Task): void {
  const c = taskTimes.get(t);
  if (!c) return;
  c.stop();
  const d = deadTimes.get(t.tg) ?? [0, 0];
  d[0] += c.userMs;
  d[1] += c.sysMs;
  deadTimes.set(t.tg, d);
  taskTimes.delete(t);
}

function msToNs(ms: number): bigint {
  return BigInt(Math.floor(ms * 1e6));
}

export function threadCpu(t: Task): CpuSample {
  const [u, s] = taskTimes.get(t)?.sample() ?? [0, 0];
  return { userNs: msToNs(u), sysNs: msToNs(s) };
}

export function processCpu(tg: ThreadGroup): CpuSample {
  let [u, s] = deadTimes.get(tg) ?? [0, 0];
  for (const t of tg.tasks) {
    const c = taskTimes.get(t);
    if (!c) continue;
    const [tu, ts] = c.sample();
    u += tu;
    s += ts;
  }
  return { userNs: msToNs(u), sysNs: msToNs(s) };
}

/** How many of the process's tasks can be accruing CPU time (at least 1): CPU time
 *  advances at most this many times faster than wall time. */
export function runnableTasks(tg: ThreadGroup): number {
  let n = 0;
  for (const t of tg.tasks) if (!t.exited) n++;
  return Math.max(1, n);
}
