// O_TMPFILE: unnamed files on tmpfs (/dev/shm) and on the memory overlay of the root (/tmp),
// named later with linkat, compared with the native run of tmpfile.c on /dev/shm.
import { existsSync, statfsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

const TMPFS_MAGIC = 0x01021994;
const noShm = skipBecause(!existsSync('/dev/shm') || statfsSync('/dev/shm').type !== TMPFS_MAGIC,
  '/dev/shm is not a tmpfs here: the native run would not show tmpfs semantics');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(noShm).each(['/dev/shm', '/tmp'])('O_TMPFILE in %s behaves as on a native tmpfs', async (dir) => {
    const native = await runNative([fixture('tmpfile'), '/dev/shm'], { timeoutMs: 60_000 });
    expect(native.stdout).toContain('linkat via /proc AT_SYMLINK_FOLLOW: ok');
    const r = await runSandbox([fixture('tmpfile'), dir], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(native.code);
  }, 120_000);
});
