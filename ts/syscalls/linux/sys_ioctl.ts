// ioctl (Linux fs/ioctl.c): the requests every file understands are handled here (close-on-
// exec, non-blocking and O_ASYNC toggles, a socket's SIGIO owner, a regular file's FIONREAD);
// the rest go to the file, whose default is ENOTTY.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EBADF } from '../../abi/linux/errno';
import { O_ASYNC, O_NONBLOCK, O_PATH } from '../../abi/linux/fcntl';
import { FIOASYNC, FIOCLEX, FIONBIO, FIONCLEX, FIONREAD } from '../../abi/linux/ioctl';
import { S_IFMT, S_IFREG } from '../../abi/linux/stat';
import { SEEK_CUR } from '../../abi/linux/fcntl';
import type { FileDescription } from '../../vfs/file_description';
import { SYS_ioctl } from '../../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallReturn, SyscallTable } from './types';
import { getFile } from './fd_util';
import { fGetown, fSetown, setAsyncFlag } from '../../kernel/fasync';
import { Socket } from '../../net/socket';
import { ifreqIoctl, isIfreqIoctl } from '../../net/ifreq';
import { VfsFile } from '../../vfs/vfs_file';
import { FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, ioctlGetFlags, ioctlSetFlags } from '../../vfs/inode_flags';

const FIOSETOWN = 0x8901, SIOCSPGRP = 0x8902, FIOGETOWN = 0x8903, SIOCGPGRP = 0x8904;

function sysIoctl(t: Task, a: SyscallArgs): SyscallReturn {
  const fd = a.int(0);
  const cmd = a.uint(1);
  const arg = a.ptr(2);
  const f = getFile(t, fd);
  if (f.flags & O_PATH) fail(EBADF);
  switch (cmd) {
    case FIOCLEX:
      t.fdTable.setFlags(fd, { cloexec: true });
      return 0;
    case FIONCLEX:
      t.fdTable.setFlags(fd, { cloexec: false });
      return 0;
    case FIONBIO: {
      const on = t.mm.readI32(arg) !== 0;
      f.setStatusFlags(on ? f.flags | O_NONBLOCK : f.flags & ~O_NONBLOCK);
      return 0;
    }
    case FIOASYNC: {
      const on = t.mm.readI32(arg) !== 0;
      setAsyncFlag(t, f, fd, on ? f.flags | O_ASYNC : f.flags & ~O_ASYNC);
      return 0;
    }
    case FIONREAD:
      if (regularFionread(t, f, arg)) return 0;
      return f.ioctl(t, cmd, arg);
    // vfs_fileattr_get/set; a file system that keeps no flags leaves them to the file (ENOTTY).
    case FS_IOC_GETFLAGS:
      if (!(f instanceof VfsFile) || !f.vd.inode.keepsFsFlags) return f.ioctl(t, cmd, arg);
      return ioctlGetFlags(t, f.vd, arg);
    case FS_IOC_SETFLAGS:
      if (!(f instanceof VfsFile) || !f.vd.inode.keepsFsFlags) return f.ioctl(t, cmd, arg);
      return ioctlSetFlags(t, f.vd, arg);
    // sock_ioctl: a socket's owner for SIGIO (others pass them on and get ENOTTY).
    case FIOSETOWN: case SIOCSPGRP:
      if (!(f instanceof Socket)) return f.ioctl(t, cmd, arg);
      fSetown(t, f, t.mm.readI32(arg));
      return 0;
    case FIOGETOWN: case SIOCGPGRP:
      if (!(f instanceof Socket)) return f.ioctl(t, cmd, arg);
      t.mm.writeI32(arg, fGetown(f));
      return 0;
    default:
      // sock_do_ioctl: what the family does not know goes to the interface ioctls.
      if (f instanceof Socket && isIfreqIoctl(cmd)) return ifreqIoctl(t, f, cmd, arg);
      return f.ioctl(t, cmd, arg);
  }
}

/** do_vfs_ioctl's FIONREAD for a regular file: the inode's size less the position, as an
 *  int (negative past the end). false for other files, whose own ioctl answers. */
function regularFionread(t: Task, f: FileDescription, arg: number): boolean {
  if (!f.seekable) return false;
  const st = f.stat();
  if ((st.mode & S_IFMT) !== S_IFREG) return false;
  t.mm.writeI32(arg, (st.size - f.lseek(0, SEEK_CUR)) | 0);
  return true;
}

export function registerIoctl(table: SyscallTable): void {
  table[SYS_ioctl] = { name: 'ioctl', handler: sysIoctl, args: ['fd', 'ioctlcmd', 'hex'] };
}
