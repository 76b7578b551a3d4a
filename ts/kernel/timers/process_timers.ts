// The timers of a process (Linux signal_struct: real_timer and it[] for the interval timers,
// posix_timers for timer_create's): created on first use, kept by exec only for the
// interval timers (exec deletes the posix timers, exit_itimers), never inherited by fork
// (a new process starts with none), and all cancelled when the process exits.

import type { Task } from '../task';
import type { ThreadGroup } from '../thread_group';
import { SIGALRM, SIGPROF, SIGVTALRM } from '../../abi/linux/signal';
import { CPUCLOCK_PROF, CPUCLOCK_VIRT } from '../../abi/linux/time';
import { sendSignalToProcess, SI_KERNEL } from '../signals';
import { sigInfo } from '../sig_pending';
import { KTimer } from './ktimer';
import { processCpuClock, wallClock } from './clock';
import type { PosixTimer } from './posix_timer';

export const ITIMER_REAL = 0, ITIMER_VIRTUAL = 1, ITIMER_PROF = 2;

export class ProcessTimers {
  /** ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF. */
  readonly itimers: [KTimer, KTimer, KTimer];
  readonly posix = new Map<number, PosixTimer>();
  private nextId = 0;

  constructor(readonly tg: ThreadGroup, k: Task['kernel']) {
    this.itimers = [
      this.realTimer(wallClock(k, 'monotonic')),
      new KTimer(processCpuClock(tg, CPUCLOCK_VIRT), () => this.signal(SIGVTALRM)),
      new KTimer(processCpuClock(tg, CPUCLOCK_PROF), () => this.signal(SIGPROF)),
    ];
  }

  /** ITIMER_REAL's periodic rearm waits for its SIGALRM to be taken (Linux dequeue_signal
   *  restarts real_timer), so a process that does not take it gets no more. */
  private realTimer(clock: ReturnType<typeof wallClock>): KTimer {
    const info = sigInfo(SIGALRM, SI_KERNEL);
    info.onDequeue = () => { timer.rearm(); };
    const timer = new KTimer(clock, () => {
      sendSignalToProcess(this.tg, info);
      return !this.tg.pending.holds(info);
    });
    return timer;
  }

  private signal(sig: number): boolean {
    sendSignalToProcess(this.tg, sigInfo(sig, SI_KERNEL));
    return true;
  }

  /** The next free timer id (posix_timer_add: counting up from 0, wrapping at INT_MAX). */
  allocId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = (this.nextId + 1) & 0x7fff_ffff;
      if (!this.posix.has(id)) return id;
    }
  }

  /** exec: the posix timers go, the interval timers stay. */
  deletePosix(): void {
    for (const p of this.posix.values()) p.delete();
    this.posix.clear();
  }

  destroy(): void {
    this.deletePosix();
    for (const it of this.itimers) it.destroy();
  }
}

const states = new WeakMap<ThreadGroup, ProcessTimers>();

export function processTimers(t: Task): ProcessTimers {
  const tg = t.tg;
  let s = states.get(tg);
  if (!s) {
    const created = new ProcessTimers(tg, t.kernel);
    s = created;
    states.set(tg, created);
    void tg.exited.then(() => {
      created.destroy();
      states.delete(tg);
    });
  }
  return s;
}

/** The process's posix timers, newest first as Linux lists them (none if it made none). */
export function posixTimersOf(tg: ThreadGroup): PosixTimer[] {
  return [...(states.get(tg)?.posix.values() ?? [])].reverse();
}

/** execve's part: delete the caller's process's posix timers. */
export function execTimers(t: Task): void {
  states.get(t.tg)?.deletePosix();
}
