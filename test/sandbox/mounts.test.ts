// mount(2)/umount2(2) (syscalls/linux/sys_mount.ts, vfs/mount.ts) compared with the native
// run of mounts.c, which runs in a private mount namespace of its own under a fresh
// directory: tmpfs with options, bind mounts (directory, file, recursive), stacking,
// remounts, propagation types, MS_MOVE, busy/lazy/expiring unmounts and the errnos.
import { describe, it } from 'vitest';
import { expectSameAsNativeInFreshDir, platforms, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run mounts (in a namespace of its own): it needs root');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('mounts and unmounts as natively', async () => {
    await expectSameAsNativeInFreshDir('mounts', 'tsvisor-mounts-', platform);
  }, 120_000);
});
