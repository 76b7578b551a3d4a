// A restartable one-shot timer for TCP (Linux inet_csk_reset_xmit_timer): arming it often
// (every ACK restarts the retransmission timer) only moves a deadline; the host timer is
// re-armed when it fires early. Cancelling only clears the deadline while the host timer is
// due soon: a bulk transfer cancels and re-arms the retransmission timer on nearly every
// ACK, and a host timer made and cleared each time costs more than one that fires idle.
// Host timers are unref'd: a connection's timers never keep the sentry alive on their own.
// Times are performance.now() milliseconds; a caller that has just read the clock passes its
// reading (a segment's handling reads it once: endpoint.ts).

import { WIDE_ZERO } from '../wide_field';

/** A cancelled host timer due within this long is left to fire idle. */
const LAZY_CANCEL_MS = 2_000;

export class TcpTimer {
  private deadline = WIDE_ZERO;
  private handle: NodeJS.Timeout | null = null;
  /** When the host timer fires. */
  private handleAt = WIDE_ZERO;
  /** When it was last armed: cancel() judges how far off the host timer is from there. */
  private armedAt = WIDE_ZERO;

  constructor(private readonly fire: () => void) {}

  get armed(): boolean { return this.deadline !== 0; }

  arm(ms: number, now = performance.now()): void {
    this.deadline = now + ms;
    this.armedAt = now;
    if (this.handle !== null) {
      // A host timer due before the deadline re-arms itself when it fires; one due after it
      // would fire late.
      if (this.handleAt <= this.deadline) return;
      clearTimeout(this.handle);
      this.handle = null;
    }
    this.schedule(ms, now);
  }

  /** Armed with a deadline at or before now. */
  due(now: number): boolean { return this.deadline !== 0 && this.deadline <= now; }

  /** Arm only when not armed already. */
  armIfIdle(ms: number, now?: number): void { if (!this.armed) this.arm(ms, now); }

  cancel(): void {
    this.deadline = 0;
    // No clock read: seen from when it was armed, a host timer looks further off than it is,
    // and is at worst cleared when it could have been left.
    if (this.handle !== null && this.handleAt - this.armedAt > LAZY_CANCEL_MS) {
      clearTimeout(this.handle);
      this.handle = null;
    }
  }

  private schedule(ms: number, now: number): void {
    const wait = Math.max(1, ms);
    this.handleAt = now + wait;
    this.handle = setTimeout(() => this.tick(), wait);
    this.handle.unref();
  }

  private tick(): void {
    this.handle = null;
    if (this.deadline === 0) return;
    const now = performance.now();
    const left = this.deadline - now;
    if (left > 0) { this.schedule(left, now); return; }
    this.deadline = 0;
    this.fire();
  }
}
