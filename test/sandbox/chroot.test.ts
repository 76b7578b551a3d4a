// chroot(2) (FSContext.root, vfs/task_fs.ts taskRoot): resolution below the new root, "..",
// symlinks, getcwd, /proc/self/root, fork and execve inside, no user namespace while
// chrooted, and the errnos, compared with the native run of chroot.c in a fresh directory
// (before, chroot to anything but the current root was EPERM).
import { describe, it } from 'vitest';
import { expectSameAsNativeInFreshDir, platforms, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run chroots: it needs root');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('chroot behaves as natively', async () => {
    await expectSameAsNativeInFreshDir('chroot', 'tsvisor-chroot-', platform);
  }, 120_000);

  // getcwd said the old working directory (known only by name) was inside the new root;
  // /proc links named paths from the namespace's root, not the reader's.
  it.skipIf(notRoot)('getcwd and /proc links after chroot without a chdir, as natively', async () => {
    await expectSameAsNativeInFreshDir('chroot_paths', 'tsvisor-chroot-paths-', platform);
  });
});
