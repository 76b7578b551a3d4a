// A restartable one-shot timer for TCP (Linux inet_csk_reset_xmit_timer): arming it often
// (every ACK restarts the retransmission timer) only moves a deadline; the host timer is
// re-armed when it fires early. Host timers are unref'd: a connection's timers never keep
// the sentry alive on their own.

export class TcpTimer {
  private deadline = 0;
  private handle: NodeJS.Timeout | null = null;

  constructor(private readonly fire: () => void) {}

  get armed(): boolean { return this.deadline !== 0; }

  arm(ms: number): void {
    this.deadline = Date.now() + ms;
    if (this.handle === null) this.schedule(ms);
  }

  /** Arm only when not armed already. */
  armIfIdle(ms: number): void { if (!this.armed) this.arm(ms); }

  cancel(): void {
    this.deadline = 0;
    if (this.handle !== null) {
      clearTimeout(this.handle);
      this.handle = null;
    }
  }

  private schedule(ms: number): void {
    this.handle = setTimeout(() => this.tick(), Math.max(1, ms));
    this.handle.unref();
  }

  private tick(): void {
    this.handle = null;
    if (this.deadline === 0) return;
    const left = this.deadline - Date.now();
    if (left > 0) { this.schedule(left); return; }
    this.deadline = 0;
    this.fire();
  }
}
