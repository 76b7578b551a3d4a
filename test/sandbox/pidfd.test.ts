// pidfds: pidfd_open, poll for exit, waitid(P_PIDFD) (EAGAIN when non-blocking), signals,
// pidfd_getfd, CLONE_PIDFD through clone and clone3, compared with the native run.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('pidfds behave as natively', async () => {
    const native = await runNative([fixture('pidfd')], { timeoutMs: 30_000 });
    const r = await runSandbox([fixture('pidfd')], { platform, timeoutMs: 30_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(native.code);
  }, 60_000);
});
