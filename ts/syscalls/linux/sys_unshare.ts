// unshare (Linux kernel/fork.c ksys_unshare): stop sharing the fd table (CLONE_FILES), the
// file-system context (CLONE_FS) or System V semaphore undo state (CLONE_SYSVSEM) with
// other tasks. The sandbox has no namespaces: without CAP_SYS_ADMIN a namespace flag is
// EPERM, as on Linux; with it, EINVAL — a kernel built without that namespace type says so.
// CLONE_THREAD, CLONE_SIGHAND and CLONE_VM are accepted only where nothing is shared.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, EPERM } from '../../abi/linux/errno';
import { CAP_SYS_ADMIN } from '../../kernel/capabilities';
import { SYS_unshare } from '../../abi/linux/syscall_numbers';
import { fdTableShared, mmUserCount, putFDTable } from '../../kernel/shared_state';
import type { SyscallArgs, SyscallTable } from './types';

const CLONE_VM = 0x100, CLONE_FS = 0x200, CLONE_FILES = 0x400, CLONE_SIGHAND = 0x800,
  CLONE_THREAD = 0x10000, CLONE_NEWNS = 0x20000, CLONE_SYSVSEM = 0x40000, CLONE_NEWCGROUP = 0x2000000,
  CLONE_NEWUTS = 0x4000000, CLONE_NEWIPC = 0x8000000, CLONE_NEWUSER = 0x10000000, CLONE_NEWPID = 0x20000000,
  CLONE_NEWNET = 0x40000000, CLONE_NEWTIME = 0x80;
const NAMESPACES = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
  CLONE_NEWNET | CLONE_NEWTIME;
const ALLOWED = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | NAMESPACES;

function sysUnshare(t: Task, a: SyscallArgs): number {
  const flags = a.uint(0);
  if ((flags & ~ALLOWED) !== 0) fail(EINVAL);
  // check_unshare_flags: these only undo sharing that is not there.
  if ((flags & CLONE_THREAD) !== 0 && t.tg.tasks.size > 1) fail(EINVAL);
  if ((flags & (CLONE_SIGHAND | CLONE_VM)) !== 0 && (t.tg.tasks.size > 1 || mmUserCount(t.mm) > 1)) fail(EINVAL);
  if ((flags & NAMESPACES) !== 0) {
    // A user namespace needs no privilege on Linux; the others need CAP_SYS_ADMIN.
    if ((flags & NAMESPACES & ~CLONE_NEWUSER) !== 0 && !t.creds.hasCapability(CAP_SYS_ADMIN)) fail(EPERM);
    fail(EINVAL);
  }
  if ((flags & CLONE_FILES) !== 0 && fdTableShared(t.fdTable)) {
    const old = t.fdTable;
    t.fdTable = old.fork();
    putFDTable(old);
  }
  if ((flags & CLONE_FS) !== 0) t.fs = { ...t.fs };
  return 0;
}

export function registerUnshare(table: SyscallTable): void {
  table[SYS_unshare] = { name: 'unshare', handler: sysUnshare, args: ['hex'] };
}
