// Clocks, sleeps and getrandom: correctness only (no timing goals).
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('clock_gettime, nanosleep, clock_nanosleep, gettimeofday, time, getrandom', async () => {
    const native = await runNative([fixture('time')]);
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox([fixture('time')], { platform });
    expect(r.stdout.split('\n').filter((l) => l.startsWith('FAIL')), describeResult(r)).toEqual([]);
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
  });
});
