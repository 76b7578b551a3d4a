// CPU time of tasks and processes (Linux task_cputime: utime, stime, summed over a thread
// group with its dead threads' times in signal_struct, and the reaped children's in
// cutime/cstime). The application runs in a stub thread the host accounts, not the sentry:
// - user time is the CPU the host charged to the task's stub thread (the platform context
//   reads its scheduler runtime), left out while the task is blocked in the sentry (the
//   systrap stub spins a little for the answer before it sleeps), and capped, between two
//   such pauses, by the wall time the task spent in platform runs. Each is an upper bound:
//   the stub's CPU includes its trap and wait overhead, the wall time a run's time off the
//   CPU on a loaded host; the smaller, taken interval by interval, is the estimate.
// - system time is the time the sentry spends handling the task's events (syscalls,
//   faults), the waits of blocking syscalls left out: wall time, capped segment by segment
//   (between the same pause points) by the CPU the sentry's thread used meanwhile, which on
//   a loaded host is much less than the wall time it took.
// task_run.ts drives the phase changes; exec retires the old context; the wait path charges
// a reaped child to its parent.

import { addon } from '../../native/addon';
import { psiTaskAsleep, psiTaskAwake } from '../psi';
import type { Task } from '../task';
import type { ThreadGroup } from '../thread_group';

const SYS = 0, USER = 1, IDLE = 2;

/** The sentry thread's own CPU time, ns (-1 if unknown), read now. It also refreshes the
 *  sample below: a sampled reading must never be older than one already handed out, or a
 *  segment closed with it gives back time a sample() reported (a thread clock going back). */
function sentryCpuNs(): number {
  sentrySampleAt = performance.now();
  sentrySample = Math.max(sentrySample, addon().sentryThreadCpuNs());
  return sentrySample;
}

/** How old a CPU-time reading may be at the pause points around a blocking syscall. Each
 *  reading is a host syscall (the stub's a /proc pread too), 2-5 us apiece on a loaded VM,
 *  four per blocking syscall: a pipe ping-pong paid more for them than for its wake-ups.
 *  Within a millisecond the estimate errs by less than Linux's own tick-based accounting. */
export const CPU_SAMPLE_MS = 1;
let sentrySample = -1;
let sentrySampleAt = -Infinity;

/** sentryCpuNs() at most CPU_SAMPLE_MS old (never going back). */
function sentryCpuNsSampled(): number {
  return performance.now() - sentrySampleAt >= CPU_SAMPLE_MS ? sentryCpuNs() : sentrySample;
}

export interface CpuSample { userNs: bigint; sysNs: bigint }

export class TaskCpuTime {
  /** Wall milliseconds in platform runs and in the sentry's handling (doubles: no
   *  allocation per phase change). */
  private wallUserMs = 0;
  private sysMs = 0;
  private mark = performance.now();
  private phase = SYS;
  /** User time of the intervals closed so far, ns. An interval runs from one hostResume()
   *  to the next hostPause(); it is charged the smaller of the stub's CPU and the run wall
   *  time it contains. */
  private userNs = 0;
  private paused = false;
  /** Times the task gave up its CPU to wait (a blocking syscall, a stop): Linux's nvcsw. */
  voluntarySwitches = 0;

  /** A task's accounting starts as it first runs: it wants a CPU (psi.ts). */
  constructor() { psiTaskAwake(); }
  /** Stub CPU and run wall time (ns, ms) when the open interval began. */
  private hostMark = 0;
  private wallMark = 0;
  /** System time of the segments closed so far, ns; the open segment's start: sentry
   *  thread CPU (ns) and system wall time (ms). */
  private sysClosedNs = 0;
  private sentryMark = sentryCpuNsSampled();
  private sysWallMark = 0;

  enterUser(): void {
    const now = performance.now();
    if (this.phase === SYS) this.sysMs += now - this.mark;
    this.mark = now;
    this.phase = USER;
  }

  leaveUser(): void {
    const now = performance.now();
    if (this.phase === USER) this.wallUserMs += now - this.mark;
    this.mark = now;
    this.phase = SYS;
  }

  /** A blocking syscall awaits: the time until wake() is nobody's CPU time. hostNs: the
   *  stub thread's CPU time now. */
  sleep(hostNs: number): void {
    this.voluntarySwitches++;
    if (this.phase !== IDLE) psiTaskAsleep();
    const now = performance.now();
    if (this.phase === SYS) this.sysMs += now - this.mark;
    this.mark = now;
    this.phase = IDLE;
    this.hostPause(hostNs);
  }

  wake(hostNs: number): void {
    if (this.phase === IDLE) psiTaskAwake();
    this.mark = performance.now();
    this.hostResume(hostNs);
    this.phase = SYS;
  }

  /** From here to hostResume() the stub's CPU is not the application's: it waits for the
   *  sentry (a blocking syscall, a group stop). Each read costs microseconds (a /proc pread,
   *  a thread CPU clock), so only the waits that cost far more pause. */
  hostPause(hostNs: number): void {
    this.segmentSys();
    if (this.paused) return;
    this.userNs += this.openUserNs(hostNs);
    this.paused = true;
  }

  hostResume(hostNs: number): void {
    this.segmentSys();
    if (!this.paused) return;
    this.paused = false;
    this.hostMark = hostNs;
    this.wallMark = this.wallUserNow();
  }

  /** exec replaced the task's context: the old stub's time stays the task's, and the new
   *  one's counts from its own zero. */
  retire(oldHostNs: number): void {
    if (this.paused) return; // hostResume() marks the new stub
    this.userNs += this.openUserNs(oldHostNs);
    this.hostMark = 0;
    this.wallMark = this.wallUserNow();
  }

  private sysWallNow(): number {
    return this.sysMs + (this.phase === SYS ? performance.now() - this.mark : 0);
  }

  private openSysNs(sentryNs: number): number {
    const wall = (this.sysWallNow() - this.sysWallMark) * 1e6;
    if (sentryNs < 0 || this.sentryMark < 0) return wall;
    return Math.max(0, Math.min(wall, sentryNs - this.sentryMark));
  }

  private segmentSys(): void {
    const s = sentryCpuNsSampled();
    this.sysClosedNs += this.openSysNs(s);
    this.sentryMark = s;
    this.sysWallMark = this.sysWallNow();
  }

  private wallUserNow(): number {
    return this.wallUserMs + (this.phase === USER ? performance.now() - this.mark : 0);
  }

  private openUserNs(hostNs: number): number {
    if (this.paused) return 0;
    const wall = (this.wallUserNow() - this.wallMark) * 1e6;
    // A platform that cannot tell the stub's CPU (hostNs -1): the run wall time alone.
    if (hostNs < 0 || this.hostMark < 0) return wall;
    return Math.max(0, Math.min(wall, hostNs - this.hostMark));
  }

  /** [user, system] ns so far, the phase in progress included; hostNs is the CPU time of
   *  the current stub thread. */
  sample(hostNs: number): [number, number] {
    return [this.userNs + this.openUserNs(hostNs), this.sysClosedNs + this.openSysNs(sentryCpuNs())];
  }

  /** Stop counting (the task has exited): its final [user, system] ns. */
  stop(hostNs: number): [number, number] {
    this.sleep(hostNs);
    return this.sample(hostNs);
  }
}

const taskTimes = new WeakMap<Task, TaskCpuTime>();
/** Times of a process's threads that have exited (signal_struct utime/stime), ns. */
const deadTimes = new WeakMap<ThreadGroup, [number, number]>();
/** Times of a process's reaped children and their own reaped children (cutime/cstime), ns. */
const childTimes = new WeakMap<ThreadGroup, [number, number]>();

export function taskCpuTime(t: Task): TaskCpuTime {
  let c = taskTimes.get(t);
  if (!c) {
    c = new TaskCpuTime();
    taskTimes.set(t, c);
  }
  return c;
}

/** A task has stopped for good (its context not yet released): its time stays with its
 *  process. */
export function chargeExitedTask(t: Task): void {
  const c = taskTimes.get(t);
  if (!c) return;
  const [u, s] = c.stop(t.ctx.cpuTimeNs());
  const d = deadTimes.get(t.tg) ?? [0, 0];
  d[0] += u;
  d[1] += s;
  deadTimes.set(t.tg, d);
  taskTimes.delete(t);
}

/** wait reaps `child` (release_task via wait_task_zombie): its times and its children's
 *  become its parent's children times. Auto-reaped children are not charged, as on Linux. */
export function chargeReapedChild(parent: ThreadGroup, child: ThreadGroup): void {
  const own = processCpu(child), kids = childrenCpu(child);
  const c = childTimes.get(parent) ?? [0, 0];
  c[0] += Number(own.userNs + kids.userNs);
  c[1] += Number(own.sysNs + kids.sysNs);
  childTimes.set(parent, c);
}

function toSample(u: number, s: number): CpuSample {
  return { userNs: BigInt(Math.floor(u)), sysNs: BigInt(Math.floor(s)) };
}

export function threadCpu(t: Task): CpuSample {
  const c = taskTimes.get(t);
  if (!c) return toSample(0, 0);
  const [u, s] = c.sample(t.ctx.cpuTimeNs());
  return toSample(u, s);
}

/** The task's voluntary context switches so far (0 before it first ran). */
export function voluntarySwitches(t: Task): number {
  return taskTimes.get(t)?.voluntarySwitches ?? 0;
}

export function processCpu(tg: ThreadGroup): CpuSample {
  let [u, s] = deadTimes.get(tg) ?? [0, 0];
  for (const t of tg.tasks) {
    const c = taskTimes.get(t);
    if (!c) continue;
    const [tu, ts] = c.sample(t.ctx.cpuTimeNs());
    u += tu;
    s += ts;
  }
  return toSample(u, s);
}

/** The times of the process's reaped children (RUSAGE_CHILDREN, times()'s cutime). */
export function childrenCpu(tg: ThreadGroup): CpuSample {
  const [u, s] = childTimes.get(tg) ?? [0, 0];
  return toSample(u, s);
}

/** How many of the process's tasks can be accruing CPU time (at least 1): CPU time
 *  advances at most this many times faster than wall time. */
export function runnableTasks(tg: ThreadGroup): number {
  let n = 0;
  for (const t of tg.tasks) if (!t.exited) n++;
  return Math.max(1, n);
}
