// close, close_range, dup, dup2, dup3 (Linux fs/file.c): fd-table operations that do not
// look inside the file.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EBADF, EINVAL } from '../../abi/linux/errno';
import { O_CLOEXEC } from '../../abi/linux/fcntl';
import { SYS_close, SYS_close_range, SYS_dup, SYS_dup2, SYS_dup3 } from '../../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallTable } from './types';
import { getFile, nofileLimit } from './fd_util';
import { unshareFDTable } from '../../kernel/shared_state';

const CLOSE_RANGE_UNSHARE = 1 << 1;
const CLOSE_RANGE_CLOEXEC = 1 << 2;

function sysClose(t: Task, a: SyscallArgs): number {
  const f = t.fdTable.remove(a.int(0)) ?? fail(EBADF);
  f.decRef();
  return 0;
}

/** close_range(first, last, flags): every open fd in [first, last]; CLOSE_RANGE_CLOEXEC marks
 *  them instead. CLOSE_RANGE_UNSHARE first gives the caller its own table (CLONE_FILES
 *  sharers keep theirs whole). */
function sysCloseRange(t: Task, a: SyscallArgs): number {
  const first = a.uint(0);
  const last = a.uint(1);
  const flags = a.uint(2);
  if ((flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) !== 0 || first > last) fail(EINVAL);
  if (flags & CLOSE_RANGE_UNSHARE) unshareFDTable(t);
  for (const fd of t.fdTable.fds()) {
    if (fd < first || fd > last) continue;
    if (flags & CLOSE_RANGE_CLOEXEC) t.fdTable.setFlags(fd, { cloexec: true });
    else t.fdTable.remove(fd)?.decRef();
  }
  return 0;
}

function sysDup(t: Task, a: SyscallArgs): number {
  const f = getFile(t, a.int(0));
  return t.fdTable.newFD(f, { limit: nofileLimit(t) });
}

/** dup2 onto itself only checks that the fd is open. */
function sysDup2(t: Task, a: SyscallArgs): number {
  const oldfd = a.int(0);
  const newfd = a.uint(1);
  if (oldfd === newfd) {
    getFile(t, oldfd);
    return newfd;
  }
  return dupTo(t, oldfd, newfd, false);
}

function sysDup3(t: Task, a: SyscallArgs): number {
  const oldfd = a.int(0);
  const newfd = a.uint(1);
  const flags = a.int(2);
  if ((flags & ~O_CLOEXEC) !== 0) fail(EINVAL);
  if (oldfd === newfd) fail(EINVAL);
  return dupTo(t, oldfd, newfd, (flags & O_CLOEXEC) !== 0);
}

/** Linux ksys_dup3 order: newfd past RLIMIT_NOFILE is EBADF before oldfd is looked at. */
function dupTo(t: Task, oldfd: number, newfd: number, cloexec: boolean): number {
  const limit = nofileLimit(t);
  if (newfd >= limit) fail(EBADF);
  const f = getFile(t, oldfd);
  t.fdTable.setFD(newfd, f, cloexec, limit);
  return newfd;
}

export function registerFD(table: SyscallTable): void {
  table[SYS_close] = { name: 'close', handler: sysClose, args: ['fd'] };
  table[SYS_close_range] = { name: 'close_range', handler: sysCloseRange, args: ['uint', 'uint', 'hex'] };
  table[SYS_dup] = { name: 'dup', handler: sysDup, args: ['fd'] };
  table[SYS_dup2] = { name: 'dup2', handler: sysDup2, args: ['fd', 'fd'] };
  table[SYS_dup3] = { name: 'dup3', handler: sysDup3, args: ['fd', 'fd', 'hex'] };
}
