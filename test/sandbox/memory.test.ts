// malloc, brk, mmap/munmap/mprotect/mremap inside the sandbox.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('large malloc, brk growth, mmap/mprotect/mremap round trips', async () => {
    const native = await runNative([fixture('malloc')]);
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox([fixture('malloc')], { platform });
    expect(r.stdout.split('\n').filter((l) => l.startsWith('FAIL')), describeResult(r)).toEqual([]);
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
  });
});
