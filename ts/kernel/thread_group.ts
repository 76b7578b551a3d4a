// ThreadGroup: a process (Linux signal_struct + the thread-group part of task_struct): its
// tasks, its parent, its resource limits, and how it ended.

import type { Task } from './task';
import { defaultRlimits, type Rlimit } from './rlimits';

export class ThreadGroup {
  readonly tasks = new Set<Task>();
  readonly rlimits: Rlimit[] = defaultRlimits();
  /** Path the program was executed as, for /proc/self/exe and AT_EXECFN. */
  exePath = '';
  /** Set once exit_group or a fatal signal has started: the wait(2) status. */
  exitStatus: number | null = null;
  /** Resolves when the last task has exited. */
  readonly exited: Promise<number>;
  private resolveExited!: (status: number) => void;

  constructor(readonly tgid: number, public parent: ThreadGroup | null) {
    this.exited = new Promise((r) => { this.resolveExited = r; });
  }

  /** Called by the kernel when the last task is gone. */
  markExited(): void {
    this.resolveExited(this.exitStatus ?? 0);
  }
}
