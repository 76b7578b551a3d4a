// Which open files have an fsync operation (Linux f_op->fsync): vfs_fsync_range and aio's
// IOCB_CMD_FSYNC answer EINVAL for the others. Regular files and directories of the file
// systems that store data have one (tmpfs's is a no-op, as Linux's noop_fsync); pipes,
// sockets, devices, anonymous inodes (eventfd, epoll, timerfd...) and the files of the
// kernel's own file systems (/proc, /sys) do not.

import { S_IFDIR, S_IFMT, S_IFREG } from '../abi/linux/stat';
import type { FileDescription } from './file_description';
import { VfsFile } from './vfs_file';

const NO_FSYNC_FS = new Set(['proc', 'sysfs', 'cgroup', 'cgroup2', 'debugfs', 'tracefs', 'securityfs', 'bpf']);

export function hasFsync(f: FileDescription): boolean {
  const type = f.stat().mode & S_IFMT;
  if (type !== S_IFREG && type !== S_IFDIR) return false;
  return !(f instanceof VfsFile) || !NO_FSYNC_FS.has(f.vd.mount.fs.type);
}
