// vhangup under a pty with a child session, compared with the native run of fixture
// vhangup.c: the leader's SIGHUP and SIGCONT, the session losing its terminal, hung-up files
// (read 0, write EIO, ioctl EIO/ENOTTY, poll), a blocked reader woken, EPERM unprivileged.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

const noPty = skipBecause(!existsSync('/dev/ptmx'), '/dev/ptmx not found on the host (the native run needs a pty)');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(noPty)('hangs up the controlling terminal as natively', async () => {
    const native = await runNative([fixture('vhangup')], { timeoutMs: 30_000 });
    expect(native.code, describeResult(native)).toBe(0);
    expect(native.stdout).toContain('leader: SIGHUP 1 SIGCONT 1');
    const r = await runSandbox([fixture('vhangup')], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(native.code);
  }, 120_000);
});
