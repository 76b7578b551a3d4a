// A POSIX interval timer (Linux struct k_itimer, kernel/time/posix-timers.c): a KTimer whose
// expiry queues a signal to its process or to one of its threads (SIGEV_SIGNAL,
// SIGEV_THREAD_ID; SIGEV_NONE only counts). A periodic timer whose signal is pending is
// held; taking the signal rearms it and counts the periods missed meanwhile as the overrun
// (si_overrun, timer_getoverrun), as posixtimer_deliver_signal does.

import type { Task } from '../task';
import type { ThreadGroup } from '../thread_group';
import { sendSignalToProcess, sendSignalToThread } from '../signals';
import { sigInfo, type SigInfo } from '../sig_pending';
import { KTimer } from './ktimer';
import type { TimerClock } from './clock';

export const SIGEV_SIGNAL = 0, SIGEV_NONE = 1, SIGEV_THREAD = 2, SIGEV_THREAD_ID = 4;
export const SI_TIMER = -2;
const INT_MAX = 0x7fff_ffffn;

export interface TimerSpec { value: bigint; interval: bigint }

export interface SigEvent {
  notify: number;
  signo: number;
  value: bigint;
  /** SIGEV_THREAD_ID: the thread signalled. */
  thread: Task | null;
}

export class PosixTimer {
  readonly timer: KTimer;
  /** The siginfo queued on each expiry (Linux's preallocated sigqueue). SI_TIMER's union
   *  (si_tid, si_overrun, si_sigval) has the layout of _rt's (si_pid, si_uid, si_sigval), so
   *  pid carries the timer id and uid the overrun. */
  private readonly info: SigInfo;
  /** Periods passed since the expiry that queued the pending signal (it_overrun + 1). */
  private periods = 0n;
  private overrunLast = 0;

  /** clockId: the clockid_t timer_create was given (/proc/<pid>/timers shows it). */
  constructor(readonly id: number, readonly tg: ThreadGroup, readonly clockId: number, clock: TimerClock,
    readonly ev: SigEvent) {
    this.info = sigInfo(ev.signo, SI_TIMER, { pid: id, value: ev.value });
    this.info.onDequeue = (info) => this.delivered(info);
    this.timer = new KTimer(clock, (n) => this.expire(n), ev.notify === SIGEV_NONE);
  }

  private expire(n: bigint): boolean {
    this.periods = n;
    this.info.uid = 0;
    const thread = this.ev.thread;
    if (thread) {
      sendSignalToThread(thread, this.info);
      return !thread.pending.holds(this.info);
    }
    sendSignalToProcess(this.tg, this.info);
    // A signal that was not queued (ignored, or coalesced with one already pending) does not
    // hold the timer: nothing would ever rearm it.
    return !this.tg.pending.holds(this.info);
  }

  private delivered(info: SigInfo): void {
    if (this.timer.interval === 0n || !this.timer.isHeld) return;
    const total = this.periods + this.timer.rearm();
    this.periods = 0n;
    const overrun = total - 1n;
    this.overrunLast = Number(overrun > INT_MAX ? INT_MAX : overrun);
    info.uid = this.overrunLast;
  }

  /** timer_gettime (common_timer_get). */
  get(): TimerSpec {
    const t = this.timer;
    const interval = t.interval;
    if (interval !== 0n && (t.isHeld || this.ev.notify === SIGEV_NONE)) this.periods += t.forward();
    if (!t.armed) return { value: 0n, interval };
    const rem = t.remaining();
    if (rem > 0n) return { value: rem, interval };
    // Due but not reported yet: 1 ns, except that an expired one-shot SIGEV_NONE timer is 0.
    return { value: this.ev.notify === SIGEV_NONE ? 0n : 1n, interval };
  }

  /** timer_settime with an absolute expiry on the timer's clock (0 disarms). */
  set(expiry: bigint, interval: bigint): void {
    this.dropPending();
    this.periods = 0n;
    this.overrunLast = 0;
    this.timer.set(expiry, interval);
  }

  get overrun(): number { return this.overrunLast; }

  delete(): void {
    this.dropPending();
    this.timer.destroy();
  }

  /** A signal queued before the timer was reset or deleted is not delivered (Linux drops
   *  it when it is taken; here it goes at once). */
  private dropPending(): void {
    const pending = this.ev.thread ? this.ev.thread.pending : this.tg.pending;
    pending.remove(this.info);
  }
}
