// The new mount API (syscalls/linux/sys_fsmount.ts, vfs/fs_context.ts, vfs/mount_tree.ts)
// compared with the native run of new_mount_api.c in a private mount namespace: contexts,
// their phases and messages, detached mounts used and attached, recursive clones, fspick
// reconfigures, mount_setattr, and the errnos, also without CAP_SYS_ADMIN.
import { describe, it } from 'vitest';
import { asCurrentKernel, tmpfsInode64Edits } from '../helpers/native_kernel';
import { expectSameAsNativeInFreshDir, platforms, skipBecause } from '../helpers/run';

/** Its tmpfs mounts made without inode64. */
const INODE64 = tmpfsInode64Edits(/  mounts c\/sub: inner tmpfs rw,(?:relatime|noatime),size=64k/, 2);

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run mounts (in a namespace of its own): it needs root');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('fsopen, fsmount, move_mount, open_tree, fspick and mount_setattr as natively', async () => {
    await expectSameAsNativeInFreshDir('new_mount_api', 'tsvisor-newmount-', platform, 60_000, (s) => asCurrentKernel(s, INODE64));
  }, 120_000);
});
