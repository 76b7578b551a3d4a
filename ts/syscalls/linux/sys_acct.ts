// acct (Linux kernel/acct.c): turn BSD process accounting on into a regular file, opened
// for appending, or off with NULL; CAP_SYS_PACCT required. The records are kernel/acct.ts's.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EACCES, EIO, EPERM } from '../../abi/linux/errno';
import { AT_FDCWD, O_APPEND, O_LARGEFILE, O_WRONLY } from '../../abi/linux/fcntl';
import { S_IFMT, S_IFREG } from '../../abi/linux/stat';
import { SYS_acct } from '../../abi/linux/syscall_numbers';
import { setAcctFile } from '../../kernel/acct';
import { openAt } from '../../vfs/open';
import { resolveContext, startOf } from '../../vfs/task_fs';
import type { SyscallArgs, SyscallTable } from './types';
import { copyInPath } from './path';

const CAP_SYS_PACCT = 20;

function sysAcct(t: Task, a: SyscallArgs): number {
  if (!t.creds.hasCapability(CAP_SYS_PACCT)) fail(EPERM);
  if (a.ptr(0) === 0) {
    setAcctFile(t.kernel, null);
    return 0;
  }
  const path = copyInPath(t, a.ptr(0));
  const flags = O_WRONLY | O_APPEND | O_LARGEFILE;
  const f = openAt(resolveContext(t), startOf(t, AT_FDCWD, path), path, { flags, mode: 0, umask: 0 });
  try {
    if ((f.stat().mode & S_IFMT) !== S_IFREG) fail(EACCES);
    if (!f.writable) fail(EIO);
    setAcctFile(t.kernel, f);
  } finally {
    f.decRef();
  }
  return 0;
}

export function registerAcct(table: SyscallTable): void {
  table[SYS_acct] = { name: 'acct', handler: sysAcct, args: ['path'] };
}
