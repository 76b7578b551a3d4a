// pivot_root(2) (syscalls/linux/sys_pivot_root.ts, MountNamespace.pivot) compared with the
// native run of pivot_root.c in a private mount namespace of its own: the errnos in Linux's
// order, the pivot with the old root on put_old, cwd and execve in the new root, the lazy
// unmount of the old root, pivot_root(".", "."), and a recursive bind of / onto a directory
// of a mount below it (before: the sentry recursed without end and the mount was EIO).
import { describe, it } from 'vitest';
import { skipIfChrooted } from '../helpers/native_kernel';
import { expectSameAsNativeInFreshDir, platforms, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run pivots (in a mount namespace of its own): it needs root') ||
  skipIfChrooted('pivot_root (EINVAL there)');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('pivot_root behaves as natively', async () => {
    await expectSameAsNativeInFreshDir('pivot_root', 'tsvisor-pivot-', platform);
  }, 120_000);
});
