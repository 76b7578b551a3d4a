// KTimer: one timer on a TimerClock (gVisor ktime.Timer, Linux hrtimer plus the periodic
// bookkeeping of its users). It holds an absolute expiry and an interval, and calls its
// listener with the number of periods that have passed each time it expires. A listener
// that returns false holds a periodic timer until its owner calls rearm(): a posix timer
// while its signal is pending, a timerfd until it is read, as Linux defers their rearming,
// so a timer nobody looks at costs no host wake-ups.
//
// Host timers are unref'd (but for immediates, which run at once): a timer never keeps the sentry alive by itself (the tasks of
// the process it belongs to do that), and each is cancelled when its owner goes.

import type { TimerClock } from './clock';

export type TimerListener = (expirations: bigint) => boolean;

const NS_PER_MS = 1_000_000n;
/** Node timers take at most a signed 32-bit count of ms. */
const MAX_DELAY_MS = 0x7fff_ffffn;

export class KTimer {
  /** Next expiry on the clock; 0 when disarmed. */
  private expiry = 0n;
  private period = 0n;
  private held = false;
  private destroyed = false;
  private timeout: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;

  /** `passive` timers never fire by themselves (SIGEV_NONE): they are only read. */
  constructor(readonly clock: TimerClock, private readonly listener: TimerListener,
    private readonly passive = false) {}

  get armed(): boolean { return this.expiry !== 0n; }
  get value(): bigint { return this.expiry; }
  get interval(): bigint { return this.period; }
  /** Expired and waiting for rearm(). */
  get isHeld(): boolean { return this.held; }

  /** Arm to expire at `expiry` on the clock, then every `interval` (0: once); an expiry of
   *  0 disarms. */
  set(expiry: bigint, interval: bigint): void {
    if (this.destroyed) return;
    this.cancelHost();
    this.held = false;
    this.expiry = expiry;
    this.period = expiry === 0n ? 0n : interval;
    this.schedule();
  }

  /** Time left before the next expiry on the clock (may be <= 0 if due); 0 if disarmed. */
  remaining(): bigint {
    return this.armed ? this.expiry - this.clock.now() : 0n;
  }

  /** Move a due expiry past now (disarming a one-shot timer); the periods it moved. */
  forward(): bigint {
    if (!this.armed) return 0n;
    const now = this.clock.now();
    if (now < this.expiry) return 0n;
    if (this.period === 0n) {
      this.expiry = 0n;
      return 1n;
    }
    const n = (now - this.expiry) / this.period + 1n;
    this.expiry += n * this.period;
    return n;
  }

  /** Resume a held timer: forward it past now and run it again; the periods forwarded. */
  rearm(): bigint {
    if (!this.held) return 0n;
    this.held = false;
    const n = this.forward();
    this.schedule();
    return n;
  }

  /** Expire now if due (for readers that must see an expiry the host timer has not yet
   *  reported). */
  check(): void {
    if (!this.armed || this.held || this.destroyed) return;
    if (this.clock.now() < this.expiry) return;
    this.cancelHost();
    const n = this.forward();
    if (this.listener(n)) this.schedule();
    else if (this.armed) this.held = true;
  }

  destroy(): void {
    this.destroyed = true;
    this.expiry = 0n;
    this.cancelHost();
  }

  private schedule(): void {
    if (!this.armed || this.held || this.passive || this.destroyed) return;
    const d = this.clock.delayUntil(this.expiry);
    if (d === null) return;
    const onHost = (): void => {
      this.timeout = null;
      this.immediate = null;
      if (this.clock.now() < this.expiry) this.schedule();
      else this.check();
    };
    if (d <= 0n) {
      // Not unref'd: an unref'd immediate does not stop the event loop from sleeping in
      // poll until some other event, so it could run seconds late. It runs at once anyway.
      this.immediate = setImmediate(onHost);
      return;
    }
    // Rounded up: a Node timer may run up to a millisecond early, and onHost then waits on.
    let ms = (d + NS_PER_MS - 1n) / NS_PER_MS;
    if (ms > MAX_DELAY_MS) ms = MAX_DELAY_MS;
    this.timeout = setTimeout(onHost, Number(ms));
    this.timeout.unref();
  }

  private cancelHost(): void {
    if (this.timeout) clearTimeout(this.timeout);
    if (this.immediate) clearImmediate(this.immediate);
    this.timeout = null;
    this.immediate = null;
  }
}
