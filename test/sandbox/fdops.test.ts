// dup/dup2/dup3/fcntl/lseek/close/writev on the standard streams (sockets when spawned by
// the tests, as Node creates them), compared line by line with Linux.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('fd table operations behave as on Linux', async () => {
    const native = await runNative([fixture('fdops')]);
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox([fixture('fdops')], { platform });
    expect(r.stdout.split('\n').filter((l) => l.startsWith('FAIL')), describeResult(r)).toEqual([]);
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
  });
});
