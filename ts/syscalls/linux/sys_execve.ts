// execve, execveat (Linux fs/exec.c): the file name, argv and envp are copied in here, with
// Linux's errors (EFAULT for a bad pointer, ENAMETOOLONG, E2BIG); kernel/exec.ts loads.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EBADF, EINVAL, ENOENT, ENOTDIR } from '../../abi/linux/errno';
import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, PATH_MAX } from '../../abi/linux/fcntl';
import { SYS_execve, SYS_execveat } from '../../abi/linux/syscall_numbers';
import { execve } from '../../kernel/exec';
import type { SyscallArgs, SyscallTable } from './types';

/** MAX_ARG_STRINGS: how many argv/envp pointers execve will follow. */
const MAX_ARG_STRINGS = 0x7fff_ffff;

/** A NULL vector pointer is an empty list (Linux warns, and accepts it). */
function readVector(t: Task, addr: number): string[] {
  return addr === 0 ? [] : t.mm.readStringVector(addr, MAX_ARG_STRINGS);
}

function sysExecve(t: Task, a: SyscallArgs): number {
  const filename = t.mm.readCString(a.ptr(0), PATH_MAX);
  const argv = readVector(t, a.ptr(1));
  const envp = readVector(t, a.ptr(2));
  execve(t, filename, argv, envp);
  return 0;
}

/** execveat(dirfd, path, argv, envp, flags): a relative path is taken from dirfd's
 *  directory; AT_EMPTY_PATH runs dirfd itself. */
function sysExecveat(t: Task, a: SyscallArgs): number {
  const dirfd = a.int(0);
  const flags = a.int(4);
  if ((flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) !== 0) fail(EINVAL);
  let filename = t.mm.readCString(a.ptr(1), PATH_MAX);
  const argv = readVector(t, a.ptr(2));
  const envp = readVector(t, a.ptr(3));
  let pathInaccessible = false;
  if (!filename.startsWith('/') && dirfd !== AT_FDCWD) {
    const f = t.fdTable.get(dirfd) ?? fail(EBADF);
    pathInaccessible = t.fdTable.getFlags(dirfd)?.cloexec === true;
    const where = f.describe();
    if (!where.startsWith('/')) fail(filename === '' ? ENOENT : ENOTDIR);
    if (filename === '') {
      if ((flags & AT_EMPTY_PATH) === 0) fail(ENOENT);
      filename = where;
    } else {
      filename = `${where}/${filename}`;
    }
  }
  execve(t, filename, argv, envp, { nofollow: (flags & AT_SYMLINK_NOFOLLOW) !== 0, pathInaccessible });
  return 0;
}

export function registerExecve(table: SyscallTable): void {
  table[SYS_execve] = { name: 'execve', handler: sysExecve, args: ['path', 'ptr', 'ptr'] };
  table[SYS_execveat] = { name: 'execveat', handler: sysExecveat, args: ['fd', 'path', 'ptr', 'ptr', 'hex'] };
}
