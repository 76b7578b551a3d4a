// execve, execveat (Linux fs/exec.c): the file name, argv and envp are copied in here, with
// Linux's errors (EFAULT for a bad pointer, ENAMETOOLONG, E2BIG); kernel/exec.ts loads.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EBADF, EINVAL, ENOENT } from '../../abi/linux/errno';
import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, PATH_MAX } from '../../abi/linux/fcntl';
import { SYS_execve, SYS_execveat } from '../../abi/linux/syscall_numbers';
import { execve } from '../../kernel/exec';
import { openExecutableAt } from '../../vfs/exec_file';
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
 *  directory; AT_EMPTY_PATH runs dirfd itself. Either way the program is opened through the
 *  fd and named /dev/fd/N[/path] (bprm->fdpath), what a script's interpreter is given. */
function sysExecveat(t: Task, a: SyscallArgs): number {
  const dirfd = a.int(0);
  const flags = a.int(4);
  if ((flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) !== 0) fail(EINVAL);
  const path = t.mm.readCString(a.ptr(1), PATH_MAX);
  const argv = readVector(t, a.ptr(2));
  const envp = readVector(t, a.ptr(3));
  const nofollow = (flags & AT_SYMLINK_NOFOLLOW) !== 0;
  if (path.startsWith('/') || dirfd === AT_FDCWD) {
    execve(t, path, argv, envp, { nofollow });
    return 0;
  }
  if (path === '' && (flags & AT_EMPTY_PATH) === 0) fail(ENOENT);
  if (!t.fdTable.get(dirfd)) fail(EBADF);
  // A close-on-exec fd is gone once the program runs: a script's interpreter could not open
  // its name (BINPRM_FLAGS_PATH_INACCESSIBLE).
  const pathInaccessible = t.fdTable.getFlags(dirfd)?.cloexec === true;
  const filename = path === '' ? `/dev/fd/${dirfd}` : `/dev/fd/${dirfd}/${path}`;
  execve(t, filename, argv, envp, { nofollow, pathInaccessible, openFirst: () => openExecutableAt(t, dirfd, path, !nofollow) });
  return 0;
}

export function registerExecve(table: SyscallTable): void {
  table[SYS_execve] = { name: 'execve', handler: sysExecve, args: ['path', 'ptr', 'ptr'] };
  table[SYS_execveat] = { name: 'execveat', handler: sysExecveat, args: ['fd', 'path', 'ptr', 'ptr', 'hex'] };
}
