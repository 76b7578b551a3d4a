// fcntl (Linux fs/fcntl.c): duplication, fd flags and file status flags. Locks, leases,
// ownership and pipe sizes are not implemented yet and answer EINVAL, the Linux answer for
// a command the kernel does not know.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EBADF, EINVAL, EPERM } from '../../abi/linux/errno';
import {
  FD_CLOEXEC, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_SETFD, F_SETFL, O_NOATIME, O_PATH,
  SETFL_MASK,
} from '../../abi/linux/fcntl';
import { SYS_fcntl } from '../../abi/linux/syscall_numbers';
import type { FileDescription } from '../../vfs/file_description';
import type { SyscallArgs, SyscallTable } from './types';
import { getFile, nofileLimit } from './fd_util';

/** The commands an O_PATH descriptor allows (check_fcntl_cmd); others are EBADF. */
const PATH_CMDS = new Set([F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL]);

function dupfd(t: Task, f: FileDescription, min: number, cloexec: boolean): number {
  const limit = nofileLimit(t);
  if (min >= limit) fail(EINVAL);
  return t.fdTable.newFD(f, { minFd: min, cloexec, limit });
}

/** Linux setfl: O_NOATIME only for the file's owner (or root); the rest of the access mode
 *  and creation flags cannot change. */
function setfl(t: Task, f: FileDescription, arg: number): number {
  if ((arg & O_NOATIME) !== 0 && (f.flags & O_NOATIME) === 0) {
    if (t.creds.euid !== 0 && f.stat().uid !== t.creds.fsuid) fail(EPERM);
  }
  f.setStatusFlags((arg & SETFL_MASK) | (f.flags & ~SETFL_MASK));
  return 0;
}

function sysFcntl(t: Task, a: SyscallArgs): number {
  const fd = a.int(0);
  const cmd = a.int(1);
  const f = getFile(t, fd);
  if ((f.flags & O_PATH) !== 0 && !PATH_CMDS.has(cmd)) fail(EBADF);
  switch (cmd) {
    case F_DUPFD: return dupfd(t, f, a.uint(2), false);
    case F_DUPFD_CLOEXEC: return dupfd(t, f, a.uint(2), true);
    case F_GETFD: return t.fdTable.getFlags(fd)?.cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
      t.fdTable.setFlags(fd, { cloexec: (a.int(2) & FD_CLOEXEC) !== 0 });
      return 0;
    case F_GETFL: return f.flags;
    case F_SETFL: return setfl(t, f, a.uint(2));
    default: fail(EINVAL);
  }
}

export function registerFcntl(table: SyscallTable): void {
  table[SYS_fcntl] = { name: 'fcntl', handler: sysFcntl, args: ['fd', 'fcntlcmd', 'hex'] };
}
