// tmpfs's mount options and limits (fsimpl/tmpfs/tmpfs_options.ts, tmpfs.ts, ramfs.ts)
// compared with the native run of tmpfs_options.c, which mounts in a private mount namespace
// of its own: the options /proc/self/mounts shows, statfs's counts, size= and nr_inodes=
// enforced (short write then ENOSPC, fallocate, SIGBUS in a shared mapping, hard links and
// long symlinks charged), remount rules, bad option strings, and ramfs.
import { describe, expect, it } from 'vitest';
import { asCurrentKernel, hostKernelBefore, nativeTmpfsShowsInode64, type LineEdit } from '../helpers/native_kernel';
import { expectSameAsNativeInFreshDir, platforms, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run mounts (in a namespace of its own): it needs root');

const inode64Config = skipBecause(nativeTmpfsShowsInode64(), 'the host kernel is built with CONFIG_TMPFS_INODE64 (every tmpfs ' +
  'names its inode size): each mount line is checked and read as a default kernel\'s, which names inode64 only when asked');

/** A kernel built with CONFIG_TMPFS_INODE64 names the inode size on every tmpfs line (inode32
 *  where the mount asked for it, inode64 otherwise); a default kernel, the sandbox's model, only
 *  names inode64, and only where the mount asked for it. Each "mounts m: tmpfs" line is read so
 *  from the mount that made it: the last inode option of the `mount tmpfs "OPTS"` line before it
 *  (the fixture's remounts change no inode option). */
function asDefaultInodeConfig(stdout: string): string {
  if (!inode64Config) return stdout;
  let asked: string | undefined;
  return stdout.split('\n').map((line) => {
    const mount = /^mount tmpfs "(.*)": 0 $/.exec(line);
    if (mount) asked = mount[1].split(',').filter((o) => o === 'inode64' || o === 'inode32').at(-1);
    if (!/^ {2}mounts m: tmpfs /.test(line)) return line;
    const size = /,inode(?:32|64)\b/g;
    expect(line.match(size), `a CONFIG_TMPFS_INODE64 kernel names the inode size once on each tmpfs line:\n${line}`).toEqual([`,${asked ?? 'inode64'}`]);
    return asked === 'inode64' ? line : line.replace(size, '');
  }).join('\n');
}

/** noswap came with 6.4: before, it is an unknown option (EINVAL), and the cases built on it
 *  cannot be compared; the fixture leaves them out of both runs there. */
const noNoswap = skipBecause(hostKernelBefore(6, 4), 'the host kernel predates 6.4, which has tmpfs\'s noswap: ' +
  'the fixture\'s noswap cases are left out of both runs');

/** ramfs and proc statfs through simple_statfs, which reports the device as f_fsid since 6.7
 *  ('fs: report f_fsid from s_dev for "simple" filesystems'); 0 before. */
const FSID: LineEdit[] = skipBecause(hostKernelBefore(6, 7), 'the host kernel predates 6.7, whose simple_statfs reports ' +
  'the device as f_fsid (0 before): the ramfs and proc fsid lines are read as a current kernel\'s')
  ? [{ old: /^( {2}fsid (?:ramfs|proc): )nonzero 0, is st_dev 0$/m, now: '$1nonzero 1, is st_dev 1', times: 2 }] : [];

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('tmpfs options and limits as natively', async () => {
    await expectSameAsNativeInFreshDir('tmpfs_options', 'tsvisor-tmpfs-opts-', platform, 60_000,
      (s) => asCurrentKernel(asDefaultInodeConfig(s), FSID), noNoswap ? ['no-noswap'] : []);
  }, 120_000);
});
