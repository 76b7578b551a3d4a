// readlink, readlinkat (Linux fs/stat.c). The target is copied without a NUL and truncated to
// bufsiz; the return value is the number of bytes copied. /proc's links are procfs's.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL } from '../../abi/linux/errno';
import { AT_FDCWD } from '../../abi/linux/fcntl';
import { SYS_readlink, SYS_readlinkat } from '../../abi/linux/syscall_numbers';
import { readlinkPath } from '../../vfs/lookup';
import type { SyscallArgs, SyscallTable } from './types';
import { copyInPath } from './path';
import { stringBytes } from '../../abi/byte_string';

/** bufsiz is checked before the path is even read, as Linux does. */
function readlinkAt(t: Task, dirfd: number, pathAddr: number, buf: number, bufsiz: number): number {
  if (bufsiz <= 0) fail(EINVAL);
  const target = stringBytes(readlinkPath(t, dirfd, copyInPath(t, pathAddr)));
  const n = Math.min(target.length, bufsiz);
  t.mm.copyOut(buf, target.subarray(0, n));
  return n;
}

export function registerReadlink(table: SyscallTable): void {
  table[SYS_readlink] = {
    name: 'readlink', handler: (t: Task, a: SyscallArgs) => readlinkAt(t, AT_FDCWD, a.ptr(0), a.ptr(1), a.int(2)),
    args: ['path', 'outbuf', 'int'],
  };
  table[SYS_readlinkat] = {
    name: 'readlinkat', handler: (t: Task, a: SyscallArgs) => readlinkAt(t, a.int(0), a.ptr(1), a.ptr(2), a.int(3)),
    args: ['fd', 'path', 'outbuf', 'int'],
  };
}
