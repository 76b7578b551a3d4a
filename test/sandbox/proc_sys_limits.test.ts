// /proc/sys limits compared with the native run of proc_sys_limits.c (before, the IPC limits,
// suid_dumpable and file-nr were missing), and kernel/randomize_va_space, which must say what
// the sandbox does: 0 while two runs lay a program out at the same addresses.
import { describe, expect, it } from 'vitest';
import { describeResult, expectSameAsNative, fixture, platforms, runSandbox } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('IPC limits, suid_dumpable and file-nr read as natively', async () => {
    await expectSameAsNative([fixture('proc_sys_limits')], platform, 60_000);
  }, 120_000);

  it('randomize_va_space is 0 and the layout is the same every run', async () => {
    const argv = ['/bin/sh', '-c', 'cat /proc/sys/kernel/randomize_va_space /proc/self/maps'];
    const a = await runSandbox(argv, { platform, timeoutMs: 60_000 });
    const b = await runSandbox(argv, { platform, timeoutMs: 60_000 });
    expect(a.code, describeResult(a)).toBe(0);
    expect(a.stdout.split('\n')[0]).toBe('0');
    expect(b.stdout).toBe(a.stdout);
  }, 120_000);
});
