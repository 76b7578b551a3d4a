// Many runs stopping at once (the sentry sleeps on up to 128 of their futex words itself,
// crates/addon/src/idle_wait.rs, and leaves the rest to their waiters): 150 threads that start
// computing together and report through a pipe, process pairs ping-ponging checked blocks,
// a sleeper whose timers fire among them. The output must be the native run's.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

const sorted = (s: string): string => s.trim().split('\n').sort().join('\n');

describe.each(platforms)('%s', (platform) => {
  it('150 computing threads, 4 pipe ping-pong pairs and a sleeper give the native results', async () => {
    const native = await runNative([fixture('handoff_many')], { timeoutMs: 60_000 });
    const r = await runSandbox([fixture('handoff_many')], { platform, timeoutMs: 120_000 });
    // Lines come from several processes: their order is the scheduler's.
    expect(sorted(r.stdout), describeResult(r)).toBe(sorted(native.stdout));
    expect(r.code).toBe(native.code);
  }, 180_000);
});
