// fstatfs of pipes, sockets and anonymous inodes (syscalls/linux/sys_stat.ts anonStatfs)
// compared with the native run of statfs_anon.c: each on its own pseudo file system's magic.
import { describe, it } from 'vitest';
import { expectSameAsCurrentKernel, hostKernelBefore, type LineEdit } from '../helpers/native_kernel';
import { fixture, platforms, skipBecause } from '../helpers/run';

/** simple_statfs reports the device as f_fsid since 6.7 ('fs: report f_fsid from s_dev for
 *  "simple" filesystems'); before, pipefs, sockfs and anon_inodefs left it 0. */
const FSID: LineEdit[] = skipBecause(hostKernelBefore(6, 7), 'the host kernel predates 6.7, whose simple_statfs reports ' +
  'the device as f_fsid (0 before): the five native fsid lines are read as a current kernel\'s')
  ? [{ old: /^(?<head>\w+: type [0-9a-f]+ flags [0-9a-f]+ fsid-is-dev )0(?<tail> mode \d+)$/m, now: '$<head>1$<tail>', times: 5 }] : [];

describe.each(platforms)('%s', (platform) => {
  it('pipefs, sockfs and anon_inodefs as natively', async () => {
    await expectSameAsCurrentKernel([fixture('statfs_anon')], platform, FSID);
  }, 60_000);
});
