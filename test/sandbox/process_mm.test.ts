// process_madvise and process_mrelease compared with the native run of process_mm.c.
import { describe, expect, it } from 'vitest';
import { asCurrentKernel, hostKernelBefore, type LineEdit } from '../helpers/native_kernel';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'remote process_madvise needs CAP_SYS_NICE (root here)');

/** Linux 6.13 lets process_madvise give a process any advice about itself (MADV_DONTNEED
 *  included); before, only the remote advice set, so EINVAL and the page kept. */
const SELF_6_13: LineEdit[] = skipBecause(hostKernelBefore(6, 13),
  'host kernel predates 6.13: process_madvise(MADV_DONTNEED) on oneself is EINVAL there, the sandbox\'s 6.13 answer is checked against those lines instead')
  ? [{ old: /^self DONTNEED = -1 EINVAL\n {2}zeroed: 0, kept: 1\n/m, now: 'self DONTNEED = 8192\n  zeroed: 1, kept: 1\n' }] : [];

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('process_madvise and process_mrelease behave as natively', async () => {
    const native = await runNative([fixture('process_mm')], { timeoutMs: 60_000 });
    const r = await runSandbox([fixture('process_mm')], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(asCurrentKernel(native.stdout, SELF_6_13));
    expect(r.code, describeResult(r)).toBe(native.code);
  }, 120_000);
});
