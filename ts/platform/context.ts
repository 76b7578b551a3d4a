// PlatformContext: a task's register file and its native context, with run() returning the
// event synchronously when the platform's spin budget caught the stop (the fast path: no
// promise, no allocation) and a Promise otherwise. Owns nothing but that handshake.

import {
  EVENT_PENDING, REGS_SLOTS,
  type NativeAddressSpace, type NativeContext, type NativePlatform,
} from '../native/addon';

export class PlatformContext {
  readonly regs = new BigUint64Array(REGS_SLOTS);
  /** The same registers as 32-bit halves (little-endian: slot s is words 2s, 2s+1), for the
   *  per-syscall reads and writes that need no bigint. */
  readonly words = new Int32Array(this.regs.buffer);
  private readonly native: NativeContext;
  private waiter: (() => void) | null = null;
  private released = false;
  /** Counts runs, so that a late kill timer can tell whether the run it meant is over. */
  private runs = 0;
  private running = false;

  constructor(platform: NativePlatform, as: NativeAddressSpace) {
    this.native = platform.newContext(as, () => this.onWake());
    this.native.initialRegs(this.regs);
  }

  /** Runs the task until its next syscall, fault or interrupt; returns the EVENT_* kind. */
  run(): number | Promise<number> {
    this.runs++;
    const ev = this.native.run(this.regs);
    if (ev !== EVENT_PENDING) return ev;
    this.running = true;
    return new Promise<number>((resolve) => {
      this.waiter = () => {
        this.running = false;
        resolve(this.native.take(this.regs));
      };
    });
  }

  private onWake(): void {
    const w = this.waiter;
    this.waiter = null;
    if (w) w();
  }

  interrupt(): void {
    if (!this.released) this.native.interrupt();
  }

  /** interrupt() for a task that must die: if the run it interrupts has not stopped within
   *  graceMs (the application blocked the platform's interrupt on the host), the platform
   *  kills it, and with it, on systrap, every task of its address space. */
  interruptToKill(graceMs: number): void {
    this.interrupt();
    if (!this.running) return;
    const run = this.runs;
    setTimeout(() => {
      if (this.running && this.runs === run && !this.released) this.native.kill();
    }, graceMs);
  }

  getFpState(): Buffer { return this.native.getFpState(); }
  setFpState(state: Uint8Array): void { this.native.setFpState(state); }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.native.release();
  }
}
