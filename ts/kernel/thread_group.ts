// ThreadGroup: a process (Linux signal_struct + the thread-group part of task_struct): its
// tasks, its parent and children, signals sent to it, its resource limits, and how it ended.

import type { Task } from './task';
import { defaultRlimits, type Rlimit } from './rlimits';
import { SigPending } from './sig_pending';
import { SIGCHLD } from '../abi/linux/signal';
import { rootPid, type Pid } from './ns/pid_ns';

export class ThreadGroup {
  readonly tasks = new Set<Task>();
  readonly rlimits: Rlimit[] = defaultRlimits();
  /** Path the program was executed as, for /proc/self/exe and AT_EXECFN. */
  exePath = '';
  /** Set once exit_group or a fatal signal has started: the wait(2) status. */
  exitStatus: number | null = null;
  /** Real uid of the last thread, for the SIGCHLD and waitid reports. */
  exitUid = 0;
  /** The last thread to exit, kept while the process is a zombie: /proc/<pid> describes it
   *  (state Z) until the process is reaped. */
  lastExited: Task | null = null;
  /** The thread of the parent that made this process (Linux real_parent): its exit sends
   *  the parent-death signal, and __WNOTHREAD waits and PTRACE_TRACEME look only there. */
  parentTask: Task | null = null;
  /** The last thread exited traced by the parent: a tracee's zombie, which every wait of
   *  the parent may take whatever __WCLONE says (eligible_child's ptrace case). */
  tracedByParentAtExit = false;
  /** Live and zombie child processes (not threads). */
  readonly children = new Set<ThreadGroup>();
  /** Signals sent to the process as a whole. */
  readonly pending = new SigPending();
  /** complete_signal's choice for each pending signal: the thread it woke to take it
   *  (signals.ts, groupSignalsFor). */
  readonly signalTargets = new Map<number, Task>();
  /** Signal the parent gets when this process ends (clone's CSIGNAL; 0 for none). */
  exitSignal = SIGCHLD;
  /** PR_SET_CHILD_SUBREAPER: orphaned descendants are reparented here rather than to init. */
  childSubreaper = false;
  /** Every task is gone and the parent has not reaped the process yet. */
  zombie = false;
  /** Reaped (or auto-reaped): the pid is free. */
  reaped = false;
  /** Job control: the group stop in effect and the report wait(2) owes the parent
   *  (job_control.ts); null when running and nothing is owed. */
  jobStop: import('./job_control').JobStopState | null = null;
  /** Wake-ups for this process's wait4/waitid callers: run when a child changes state. */
  readonly childWaiters = new Set<() => void>();
  /** Resolves when the last task has exited. */
  readonly exited: Promise<number>;
  private resolveExited!: (status: number) => void;

  /** The process's numbers in its pid namespace and each ancestor (tgid is the initial's). */
  readonly leaderPid: Pid;

  constructor(readonly tgid: number, public parent: ThreadGroup | null, leaderPid?: Pid) {
    this.leaderPid = leaderPid ?? rootPid(tgid);
    this.exited = new Promise((r) => { this.resolveExited = r; });
    parent?.children.add(this);
  }

  /** Called by the kernel when the last task is gone. */
  markExited(): void {
    this.resolveExited(this.exitStatus ?? 0);
  }

  /** Wake everyone waiting in wait4/waitid for one of our children. */
  notifyChildWaiters(): void {
    for (const w of [...this.childWaiters]) w();
  }
}
