// Ownership of what an unprivileged process makes (inode_init_owner), in the memory overlay and
// on a --volume, where the gofer makes files as its attach's user and they used to stay
// root's (pjdfstest chmod/chown/link on a volume), and lchown of a symlink there (EOPNOTSUPP):
// new_owner.c compared with the native run.
import { describe, expect, it } from 'vitest';
import { expectSameAsNativeInFreshDir, expectSameAsNativeOnVolume, platforms, runNative, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run needs root (it makes files as another uid)');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('in the memory overlay, as natively', async () => {
    await expectSameAsNativeInFreshDir('new_owner', 'new-owner-', platform);
  });

  it.skipIf(notRoot)('on a --volume, as natively, and on the host', async () => {
    await expectSameAsNativeOnVolume('new_owner', 'new-owner-', platform, {
      hostCheck: async (vd) => {
        const host = await runNative(['/usr/bin/stat', '-c', '%n %u %g %a', 'plain/file', 'sgid/sub'], { cwd: vd });
        expect(host.stdout).toBe('plain/file 65534 65534 604\nsgid/sub 65534 65533 2750\n');
      },
    });
  });
});
