// access(2) and mount flags: X_OK on a noexec mount's regular file is EACCES (Go's
// exec.LookPath relies on it; the sandbox said 0), EROFS on a read-only mount only for regular
// files, directories and links: access_mount.c compared with the native run (root, in a mount
// namespace of its own).
import { describe, it } from 'vitest';
import { expectSameAsNativeInFreshDir, platforms, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run needs root (it mounts a tmpfs in a mount namespace of its own)');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('access against noexec and read-only mounts, as natively', async () => {
    await expectSameAsNativeInFreshDir('access_mount', 'access-mount-', platform);
  });
});
