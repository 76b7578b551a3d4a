// name_to_handle_at / open_by_handle_at on tmpfs, compared with the native run of fixture
// handles.c (in a fresh directory of /dev/shm, tmpfs in both): handle sizes and EOVERFLOW,
// the mount id against mountinfo, flags, reopening, ESTALE, EPERM, and forged handles.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

const noShm = skipBecause(!existsSync('/dev/shm'), '/dev/shm (tmpfs) not found on the host');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(noShm)('handles behave as natively on tmpfs', async () => {
    const dir = `/dev/shm/tsvisor-handles-${process.pid}-${platform}`;
    const native = await runNative([fixture('handles'), dir], { timeoutMs: 30_000 });
    expect(native.code, describeResult(native)).toBe(0);
    expect(native.stdout).toContain('deleted: -1 ESTALE');
    const r = await runSandbox([fixture('handles'), dir], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(native.code);
  }, 120_000);

  it('the overlay root gives FIDs only, as overlayfs without nfs_export', async () => {
    const r = await runSandbox([fixture('handles_overlay')], { platform, timeoutMs: 30_000 });
    expect(r.stdout, describeResult(r)).toBe('plain: -1 EOPNOTSUPP\nfid: 0 bytes 8\nopen fid: -1 ESTALE\n');
  }, 60_000);
});
