// PI futexes (futex_pi.c): the raw protocol and its errors, absolute timeouts on each clock,
// requeue-PI, and pthread PI/robust mutexes; the output must match the native run's.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('PI futexes: LOCK_PI/LOCK_PI2/TRYLOCK_PI/UNLOCK_PI, requeue-PI, PTHREAD_PRIO_INHERIT, robust', async () => {
    const argv = [fixture('futex_pi')];
    const native = await runNative(argv, { timeoutMs: 20_000 });
    const r = await runSandbox(argv, { platform, timeoutMs: 20_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(native.code);
  }, 60_000);
});
