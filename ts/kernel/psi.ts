// Pressure stall information (Linux kernel/sched/psi.c, /proc/pressure/*) for what the sentry
// can observe. CPU: the sandbox's tasks that are not waiting in a blocking call want a CPU; while
// there are more of them than the CPUs the sandbox reports, some task is stalled ("some").
// "full" is 0 for the CPU, as Linux shows it system-wide. Memory and I/O: the sandbox neither
// reclaims nor swaps, and its file I/O is not waited for on a device queue the sentry models,
// so no task stalls there that it could count: their totals stay 0.
//
// The averages follow psi's: every 2 s period's stall share decays into avg10/avg60/avg300
// (factors e^-2/10, e^-2/60, e^-2/300), brought up to date lazily when counted or read.

import { cpuCount } from '../syscalls/linux/task_attrs';

const PERIOD_MS = 2000;
const DECAY = [10, 60, 300].map((s) => Math.exp(-PERIOD_MS / 1000 / s));

class Pressure {
  /** Stall time so far (ms) and since the averages' last update. */
  private totalMs = 0;
  private windowMs = 0;
  private readonly avg = [0, 0, 0];
  private avgAt = performance.now();
  private changedAt = performance.now();
  private stalled = false;

  /** The stall state from now on. */
  set(stalled: boolean): void {
    const now = performance.now();
    this.advance(now);
    this.stalled = stalled;
  }

  private advance(now: number): void {
    if (this.stalled) {
      this.totalMs += now - this.changedAt;
      this.windowMs += now - this.changedAt;
    }
    this.changedAt = now;
    const elapsed = now - this.avgAt;
    if (elapsed < PERIOD_MS) return;
    // calc_avgs: the periods before the last get no samples, the window's share is the last's.
    const periods = Math.floor(elapsed / PERIOD_MS);
    const share = Math.min(100, (this.windowMs * 100) / elapsed);
    for (let i = 0; i < 3; i++) {
      this.avg[i] = this.avg[i] * DECAY[i] ** (periods - 1);
      this.avg[i] = this.avg[i] * DECAY[i] + share * (1 - DECAY[i]);
    }
    this.windowMs = 0;
    this.avgAt += periods * PERIOD_MS;
  }

  /** One line of a pressure file: "some avg10=0.00 avg60=0.00 avg300=0.00 total=0" (µs). */
  line(kind: string): string {
    this.advance(performance.now());
    const a = this.avg.map((v) => (Math.round(v * 100) / 100).toFixed(2));
    return `${kind} avg10=${a[0]} avg60=${a[1]} avg300=${a[2]} total=${Math.floor(this.totalMs * 1000)}\n`;
  }
}

const cpuSome = new Pressure();
let awake = 0;

/** A task began wanting a CPU (created, or woken from a wait). */
export function psiTaskAwake(): void {
  awake++;
  cpuSome.set(awake > cpuCount());
}

/** A task stopped wanting one (a blocking wait, its exit). */
export function psiTaskAsleep(): void {
  awake = Math.max(0, awake - 1);
  cpuSome.set(awake > cpuCount());
}

const ZERO = 'avg10=0.00 avg60=0.00 avg300=0.00 total=0\n';

export function pressureText(resource: 'cpu' | 'memory' | 'io'): string {
  if (resource === 'cpu') return `${cpuSome.line('some')}full ${ZERO}`;
  return `some ${ZERO}full ${ZERO}`;
}
