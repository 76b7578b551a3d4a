// fstatfs of pipes, sockets and anonymous inodes (syscalls/linux/sys_stat.ts anonStatfs)
// compared with the native run of statfs_anon.c: each on its own pseudo file system's magic.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('pipefs, sockfs and anon_inodefs as natively', async () => {
    await expectSameAsNative([fixture('statfs_anon')], platform);
  }, 60_000);
});
