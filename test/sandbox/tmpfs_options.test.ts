// tmpfs's mount options and limits (fsimpl/tmpfs/tmpfs_options.ts, tmpfs.ts, ramfs.ts)
// compared with the native run of tmpfs_options.c, which mounts in a private mount namespace
// of its own: the options /proc/self/mounts shows, statfs's counts, size= and nr_inodes=
// enforced (short write then ENOSPC, fallocate, SIGBUS in a shared mapping, hard links and
// long symlinks charged), remount rules, bad option strings, and ramfs.
import { describe, it } from 'vitest';
import { expectSameAsNativeInFreshDir, platforms, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run mounts (in a namespace of its own): it needs root');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('tmpfs options and limits as natively', async () => {
    await expectSameAsNativeInFreshDir('tmpfs_options', 'tsvisor-tmpfs-opts-', platform);
  }, 120_000);
});
