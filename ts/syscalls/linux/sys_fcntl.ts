// fcntl (Linux fs/fcntl.c): duplication, fd flags and file status flags, and POSIX record
// locks checked but not enforced (every lock is granted, F_GETLK reports none held: the
// sandbox's files are its own, and a lock table is future work). Leases, ownership and pipe
// sizes are not implemented yet and answer EINVAL, the Linux answer for a command the kernel
// does not know.

import { isOwnerOrCapable } from '../../vfs/permission';
import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EBADF, EINVAL, EPERM } from '../../abi/linux/errno';
import {
  FD_CLOEXEC, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_GETLK, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW,
  F_SETFD, F_SETFL, F_SETLK, F_SETLKW, O_NOATIME, O_PATH, SETFL_MASK, F_ADD_SEALS, F_GET_SEALS,
} from '../../abi/linux/fcntl';
import type { TmpfsRegular } from '../../fsimpl/tmpfs/regular';
import { TmpfsRegularFile } from '../../fsimpl/tmpfs/regular_file';
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

/** Linux setfl: O_NOATIME only for the file's owner (or CAP_FOWNER); the rest of the access mode
 *  and creation flags cannot change. */
function setfl(t: Task, f: FileDescription, arg: number): number {
  if ((arg & O_NOATIME) !== 0 && (f.flags & O_NOATIME) === 0) {
    if (!isOwnerOrCapable(t.creds, f.stat().uid)) fail(EPERM);
  }
  f.setStatusFlags((arg & SETFL_MASK) | (f.flags & ~SETFL_MASK));
  return 0;
}

const F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;
/** struct flock: l_type, l_whence (shorts), l_start, l_len, l_pid. */
const FLOCK_SIZE = 32;

/** F_GETLK/F_SETLK(W) and the OFD variants: validate as Linux does, grant everything. */
function recordLock(t: Task, f: FileDescription, cmd: number, arg: number): number {
  const fl = t.mm.copyIn(arg, FLOCK_SIZE);
  const v = new DataView(fl.buffer, fl.byteOffset, FLOCK_SIZE);
  const type = v.getInt16(0, true);
  const whence = v.getInt16(2, true);
  if (type !== F_RDLCK && type !== F_WRLCK && type !== F_UNLCK) fail(EINVAL);
  if (whence < 0 || whence > 2) fail(EINVAL);
  const ofd = cmd === F_OFD_GETLK || cmd === F_OFD_SETLK || cmd === F_OFD_SETLKW;
  if (ofd && v.getInt32(24, true) !== 0) fail(EINVAL);
  if (cmd === F_GETLK || cmd === F_OFD_GETLK) {
    v.setInt16(0, F_UNLCK, true);
    t.mm.copyOut(arg, fl);
    return 0;
  }
  if ((type === F_RDLCK && !f.readable) || (type === F_WRLCK && !f.writable)) fail(EBADF);
  return 0;
}

/** The tmpfs file behind f, the only kind with seals (memfd_file_seals_ptr); else EINVAL. */
function sealable(f: FileDescription): TmpfsRegular {
  if (!(f instanceof TmpfsRegularFile)) fail(EINVAL);
  return f.data;
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
    case F_GETLK: case F_SETLK: case F_SETLKW: case F_OFD_GETLK: case F_OFD_SETLK: case F_OFD_SETLKW:
      return recordLock(t, f, cmd, a.ptr(2));
    case F_ADD_SEALS: {
      const data = sealable(f);
      if (!f.writable) fail(EPERM);
      data.addSeals(a.uint(2));
      return 0;
    }
    case F_GET_SEALS: return sealable(f).seals;
    default: fail(EINVAL);
  }
}

export function registerFcntl(table: SyscallTable): void {
  table[SYS_fcntl] = { name: 'fcntl', handler: sysFcntl, args: ['fd', 'fcntlcmd', 'hex'] };
}
