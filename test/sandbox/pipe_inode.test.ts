// A pipe's ends share one pipefs inode (pipe_inode.c): flock and fcntl locks through one end
// meet those through the other, and fchown/fchmod through either change what fstat shows on
// both, with chown's rules (EPERM for others, set-user-ID dropped even by a chown to -1:-1).
// Compared with the native run.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, shellStatus, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run needs root (it chowns to other ids)');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('locks, owner and mode as natively', async () => {
    const argv = [fixture('pipe_inode')];
    const native = await runNative(argv, { timeoutMs: 20_000 });
    expect(native.stdout).toContain('flock write end EX: Resource temporarily unavailable');
    const r = await runSandbox(argv, { platform, timeoutMs: 20_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(shellStatus(r), describeResult(r)).toBe(shellStatus(native));
  });
});
