// getcwd and umask: the task's file-system context (Linux fs_struct, gVisor FSContext).

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { ERANGE } from '../../abi/linux/errno';
import { SYS_getcwd, SYS_umask } from '../../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallTable } from './types';

/** Returns the length including the NUL (the raw syscall does; glibc turns it into buf). */
function sysGetcwd(t: Task, a: SyscallArgs): number {
  const bytes = Buffer.from(`${t.fs.cwd}\0`, 'utf8');
  if (bytes.length > a.size(1)) fail(ERANGE);
  t.mm.copyOut(a.ptr(0), bytes);
  return bytes.length;
}

function sysUmask(t: Task, a: SyscallArgs): number {
  const old = t.fs.umask;
  t.fs.umask = a.uint(0) & 0o777;
  return old;
}

export function registerFSContext(table: SyscallTable): void {
  table[SYS_getcwd] = { name: 'getcwd', handler: sysGetcwd, args: ['outbuf', 'size'] };
  table[SYS_umask] = { name: 'umask', handler: sysUmask, args: ['mode'] };
}
