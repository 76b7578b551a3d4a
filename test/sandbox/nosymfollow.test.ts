// Mounts that do not follow symlinks (MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW: vfs/resolve.ts
// checks the link's own mount) compared with the native run of nosymfollow.c: ELOOP for walks
// through links there, magic links included; readlink and lstat unaffected; statfs, mounts
// line, remount, mount_setattr and fsmount.
import { describe, it } from 'vitest';
import { asCurrentKernel, tmpfsInode64Edits } from '../helpers/native_kernel';
import { expectSameAsNativeInFreshDir, platforms, skipBecause } from '../helpers/run';

/** Its tmpfs mounts made without inode64. */
const INODE64 = tmpfsInode64Edits(/  mounts (?:m|nb|fm): tmpfs rw,relatime[^\n]*?/, 4);

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run mounts (in a namespace of its own): it needs root');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('nosymfollow mounts refuse to follow their links, as natively', async () => {
    await expectSameAsNativeInFreshDir('nosymfollow', 'tsvisor-nosymfollow-', platform, 60_000, (s) => asCurrentKernel(s, INODE64));
  }, 120_000);
});
