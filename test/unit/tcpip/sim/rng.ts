// A small seeded random source (mulberry32) for the TCP simulation: a seed replays a run.
export class Rng {
  private s: number;

  constructor(seed: number) { this.s = seed >>> 0; }

  /** In [0, 1). */
  float(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number { return lo + Math.floor(this.float() * (hi - lo + 1)); }

  chance(p: number): boolean { return this.float() < p; }

  pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.float() * xs.length)]; }

  /** Sizes spread over orders of magnitude (from lo to hi, log-uniform). */
  logInt(lo: number, hi: number): number {
    return Math.floor(Math.exp(Math.log(lo) + this.float() * (Math.log(hi + 1) - Math.log(lo))));
  }
}
