// Job control and terminals: stop/continue signals seen by wait and SIGCHLD (fixture
// jobctl.c), compared with the native run on every platform.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('stops and continues processes as natively', async () => {
    const native = await runNative([fixture('jobctl')], { timeoutMs: 30_000 });
    const r = await runSandbox([fixture('jobctl')], { platform, timeoutMs: 30_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(native.code);
  }, 70_000);
});

describe.each(platforms)('%s: pty', (platform) => {
  it('a pty pair made by the program behaves as natively', async () => {
    const native = await runNative([fixture('pty')], { timeoutMs: 30_000 });
    const r = await runSandbox([fixture('pty')], { platform, timeoutMs: 30_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(native.code);
  }, 70_000);
});
