// TaskCpuTime's system time against a scripted clock and sentry CPU: a thread's CPU clock
// never goes back, whether a reading is fresh (sample) or up to CPU_SAMPLE_MS old (the pause
// points around blocking syscalls).
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';

const clock = { wallMs: 1e6, sentryNs: 1e12 };
vi.mock('../../../ts/native/addon', () => ({ addon: () => ({ sentryThreadCpuNs: () => clock.sentryNs }) }));

const { TaskCpuTime, CPU_SAMPLE_MS } = await import('../../../ts/kernel/timers/cpu_time');

describe('TaskCpuTime', () => {
  afterEach(() => { vi.restoreAllMocks(); });

  it('a segment closed with a sampled reading gives back none of what a fresh sample reported', () => {
    vi.spyOn(performance, 'now').mockImplementation(() => clock.wallMs);
    const advance = (ms: number, cpuMs: number): void => { clock.wallMs += ms; clock.sentryNs += cpuMs * 1e6; };
    advance(10 * CPU_SAMPLE_MS, 0); // the module's sample is old: the constructor reads afresh
    const c = new TaskCpuTime();
    advance(CPU_SAMPLE_MS / 2, 0.4 * CPU_SAMPLE_MS);
    const [, sys1] = c.sample(0);
    expect(sys1).toBeCloseTo(0.4 * CPU_SAMPLE_MS * 1e6, -2);
    // Within CPU_SAMPLE_MS of that fresh reading, a blocking syscall closes the segment.
    advance(CPU_SAMPLE_MS / 10, 0);
    c.sleep(0);
    const [, sys2] = c.sample(0);
    expect(sys2).toBeGreaterThanOrEqual(sys1);
    // And across many such steps the clock only moves forward.
    let last = sys2;
    for (let i = 0; i < 200; i++) {
      c.wake(0);
      advance((i % 7) * CPU_SAMPLE_MS / 5, (i % 3) * CPU_SAMPLE_MS / 10);
      const [, s] = c.sample(0);
      expect(s).toBeGreaterThanOrEqual(last);
      last = s;
      advance(CPU_SAMPLE_MS / 20, CPU_SAMPLE_MS / 40);
      c.sleep(0);
      const [, after] = c.sample(0);
      expect(after).toBeGreaterThanOrEqual(last);
      last = after;
    }
  });
});
