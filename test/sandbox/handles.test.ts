// name_to_handle_at / open_by_handle_at on tmpfs, compared with the native run of fixture
// handles.c (in a fresh directory of /dev/shm, tmpfs in both): handle sizes and EOVERFLOW,
// the mount id against mountinfo, flags, reopening, ESTALE, EPERM, and forged handles.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { asCurrentKernel, hostKernelBefore, type LineEdit } from '../helpers/native_kernel';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

const noShm = skipBecause(!existsSync('/dev/shm'), '/dev/shm (tmpfs) not found on the host');

/** The sandbox answers as a current kernel; older hosts' lines, checked as such: AT_HANDLE_FID
 *  came with 6.5 (EINVAL before, and the fixture then prints the untouched handle);
 *  AT_HANDLE_CONNECTABLE and open_by_handle_at's checks of the handle type (negative, unknown
 *  flag bits: EINVAL) with 6.13, which also moves forged handles from ESTALE to EINVAL (the
 *  counts are a 6.18 host's, from the fixture's fixed seed). */
const FID_6_5: LineEdit[] = skipBecause(hostKernelBefore(6, 5),
  'host kernel predates 6.5: no AT_HANDLE_FID there, the sandbox\'s FID lines are checked against its EINVAL lines instead')
  ? [
      { old: /^fid: -1 EINVAL\n {2}bytes 128 type -7 same handle: yes\n/m, now: 'fid: 0\n  bytes 12 type 1 same handle: yes\n' },
      { old: /^proc fid: -1 EINVAL\n/m, now: 'proc fid: 0\n' },
    ] : [];
const TYPES_6_13: LineEdit[] = skipBecause(hostKernelBefore(6, 13),
  'host kernel predates 6.13: no AT_HANDLE_CONNECTABLE nor handle-type checks there, the sandbox\'s lines are checked against its old ones instead')
  ? [
      { old: /^connectable: -1 EINVAL\n/m, now: 'connectable: -1 EOPNOTSUPP\n' },
      { old: /^connectable dir: -1 EINVAL\n/m, now: 'connectable dir: -1 EOPNOTSUPP\n' },
      { old: /^negative type: read "hello"\n/m, now: 'negative type: -1 EINVAL\n' },
      { old: /^unknown type flag: read "hello"\n/m, now: 'unknown type flag: -1 EINVAL\n' },
      { old: /^forged: opened 0 EINVAL 767 ESTALE 2233 other 0\n/m, now: 'forged: opened 0 EINVAL 1303 ESTALE 1697 other 0\n' },
    ] : [];

describe.each(platforms)('%s', (platform) => {
  it.skipIf(noShm)('handles behave as natively on tmpfs', async () => {
    const dir = `/dev/shm/tsvisor-handles-${process.pid}-${platform}`;
    const native = await runNative([fixture('handles'), dir], { timeoutMs: 30_000 });
    expect(native.code, describeResult(native)).toBe(0);
    expect(native.stdout).toContain('deleted: -1 ESTALE');
    const r = await runSandbox([fixture('handles'), dir], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(asCurrentKernel(native.stdout, [...FID_6_5, ...TYPES_6_13]));
    expect(r.code).toBe(native.code);
  }, 120_000);

  it('the overlay root gives FIDs only, as overlayfs without nfs_export', async () => {
    const r = await runSandbox([fixture('handles_overlay')], { platform, timeoutMs: 30_000 });
    expect(r.stdout, describeResult(r)).toBe('plain: -1 EOPNOTSUPP\nfid: 0 bytes 8\nopen fid: -1 ESTALE\n');
  }, 60_000);
});
