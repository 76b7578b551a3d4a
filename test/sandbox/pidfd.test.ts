// pidfds: pidfd_open, poll for exit, waitid(P_PIDFD) (EAGAIN when non-blocking), signals,
// pidfd_getfd, CLONE_PIDFD through clone and clone3, compared with the native run.
import { describe, expect, it } from 'vitest';
import { asCurrentKernel, hostKernelBefore, type LineEdit } from '../helpers/native_kernel';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

/** Linux 6.9 (PIDFD_THREAD) made pidfd_open of a thread that is not a leader ENOENT; before,
 *  EINVAL. The sandbox answers as a current kernel. */
const THREAD_6_9: LineEdit[] = skipBecause(hostKernelBefore(6, 9),
  'host kernel predates 6.9: pidfd_open of a non-leader thread is EINVAL there, the sandbox\'s ENOENT is checked against that line instead')
  ? [{ old: /^pidfd_open of a thread: -1 EINVAL\n/m, now: 'pidfd_open of a thread: -1 ENOENT\n' }] : [];

describe.each(platforms)('%s', (platform) => {
  it('pidfds behave as natively', async () => {
    const native = await runNative([fixture('pidfd')], { timeoutMs: 30_000 });
    const r = await runSandbox([fixture('pidfd')], { platform, timeoutMs: 30_000 });
    expect(r.stdout, describeResult(r)).toBe(asCurrentKernel(native.stdout, THREAD_6_9));
    expect(r.code, describeResult(r)).toBe(native.code);
  }, 60_000);
});
