// A platform wrapper that keeps one spare address space ready once the sandbox has shown it
// forks or execs: starting a stub process costs milliseconds (exec of the stub, ptrace set-up,
// handler installation), and a spare made while the event loop is idle — typically while the
// parent waits for its child — takes that off fork's and execve's path. Nothing else changes.
// Not for a platform that keeps its own spares off the JS thread (OWN_SPARES).

import type { NativeAddressSpace, NativeContext, NativePlatform } from '../native/addon';

/** Platforms that keep spares of their own, made off the JS thread (systrap:
 *  crates/systrap/src/spare.rs). A spare taken here would be one of theirs, and taking it
 *  makes the event loop wait for the one being made (up to 100 ms) in the middle of whatever
 *  the sandbox is doing: 8-12 ms of a pipe or tcp transfer at load 9 (issue 10). */
const OWN_SPARES = new Set(['systrap']);

export class PooledPlatform implements NativePlatform {
  private spare: NativeAddressSpace | null = null;
  private made = 0;
  private scheduled = false;

  constructor(private readonly inner: NativePlatform) {}

  get name(): string { return this.inner.name; }
  get detail(): string { return this.inner.detail; }
  get minUserAddress(): number { return this.inner.minUserAddress; }
  get maxUserAddress(): number { return this.inner.maxUserAddress; }
  get syscallPatchEntry(): number { return this.inner.syscallPatchEntry; }
  get hostVdsoClock(): number[] { return this.inner.hostVdsoClock; }

  prepareAddressSpace(): void {
    this.inner.prepareAddressSpace();
  }

  newAddressSpace(): NativeAddressSpace {
    const as = this.spare ?? this.inner.newAddressSpace();
    this.spare = null;
    // The first address space is the initial program's; only a second one says "forks".
    if (++this.made >= 2 && !OWN_SPARES.has(this.inner.name)) this.scheduleSpare();
    return as;
  }

  newContext(as: NativeAddressSpace, onWake: () => void): NativeContext {
    return this.inner.newContext(as, onWake);
  }

  /** Drops the spare (at the end of the sandbox). */
  release(): void {
    this.spare?.release();
    this.spare = null;
  }

  private scheduleSpare(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.spare) return;
      try {
        this.spare = this.inner.newAddressSpace();
      } catch {
        // The next fork will try again on its own path and report the error there.
      }
    });
  }
}
