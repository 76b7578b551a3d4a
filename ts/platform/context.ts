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
  /** Set while a run that outlasted the spin budget is pending (one per such run). */
  private waiter: (() => void) | null = null;
  private released = false;
  /** Last CPU time read for the stub thread: kept once the thread is released or gone; -1
   *  while the platform has given none (it has no host thread per task). */
  private cpuNs = -1;
  /** When cpuNs was last read from the platform (performance.now() ms). */
  private cpuAt = -Infinity;

  constructor(platform: NativePlatform, as: NativeAddressSpace) {
    this.native = platform.newContext(as, () => this.onWake());
    this.native.initialRegs(this.regs);
  }

  /** execve kept this context (and its host thread): registers as a fresh thread's. */
  resetRegs(): void {
    this.native.initialRegs(this.regs);
  }

  /** Runs the task until its next syscall, fault or interrupt; returns the EVENT_* kind. */
  run(): number | Promise<number> {
    const ev = this.native.run(this.regs);
    if (ev !== EVENT_PENDING) return ev;
    // A wake says "maybe done", as a condition variable's does: one that finds the run still
    // going (a report of an earlier stop that reached JS late, after the next run parked:
    // seen as "unknown platform event 0" under load) waits on for the next.
    return new Promise<number>((resolve) => {
      const waiter = (): void => {
        const ev = this.native.take(this.regs);
        if (ev === EVENT_PENDING) this.waiter = waiter;
        else resolve(ev);
      };
      this.waiter = waiter;
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

  /** The task's syscall blocks: nothing should spin waiting for its answer. */
  blocking(): void {
    if (!this.released) this.native.blocking();
  }

  /** interrupt() for a task that must die: if the run it interrupts has not stopped within
   *  graceMs (the application blocked the platform's interrupt on the host), the platform
   *  kills it, and with it, on systrap, every task of its address space. */
  interruptToKill(graceMs: number): void {
    this.interrupt();
    const pending = this.waiter;
    if (pending === null) return;
    // Still the same run once the grace is over: it never stopped. After the kill the run
    // is over whatever became of its report (a wake is only "maybe done"): take it now, so
    // that a report the platform never delivers cannot keep a dying task for ever.
    setTimeout(() => {
      if (this.waiter !== pending || this.released) return;
      this.native.kill();
      if (this.waiter === pending) this.onWake();
    }, graceMs);
  }

  /** For a hang report (--debug-log): whether a run is pending, and the platform's view. */
  describe(): string {
    if (this.released) return 'released';
    return `${this.waiter !== null ? 'run pending' : 'no run pending'} ${this.native.describe()}`;
  }

  /** CPU time (ns) the host has charged to the task's stub thread: the application code it
   *  ran and the host kernel's work trapping it. Never goes back; -1 if unknown. */
  cpuTimeNs(): number {
    if (!this.released) {
      const n = this.native.cpuTimeNs();
      if (n > this.cpuNs) this.cpuNs = n;
    }
    return this.cpuNs;
  }

  /** cpuTimeNs() at most maxAgeMs old: the pause points around every blocking syscall take
   *  this instead of a /proc read each (kernel/timers/cpu_time.ts CPU_SAMPLE_MS). */
  cpuTimeNsSampled(maxAgeMs: number): number {
    const now = performance.now();
    if (now - this.cpuAt < maxAgeMs) return this.cpuNs;
    this.cpuAt = now;
    return this.cpuTimeNs();
  }

  getFpState(): Buffer { return this.native.getFpState(); }
  setFpState(state: Uint8Array): void { this.native.setFpState(state); }

  release(): void {
    if (this.released) return;
    this.cpuTimeNs();
    this.released = true;
    this.native.release();
  }
}
