// unshare (Linux kernel/fork.c ksys_unshare): stop sharing the fd table (CLONE_FILES), the
// file-system context (CLONE_FS) or System V semaphore undo state (CLONE_SYSVSEM) with other
// tasks, or move into new namespaces (kernel/ns/create.ts): a user namespace needs no
// privilege, the others CAP_SYS_ADMIN over the (possibly new) user namespace; a new pid or
// time namespace is for the caller's children (and, for time, its own next exec).
// CLONE_THREAD, CLONE_SIGHAND and CLONE_VM are accepted only where nothing is shared.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL } from '../../abi/linux/errno';
import { SYS_unshare } from '../../abi/linux/syscall_numbers';
import { mmUserCount, unshareFDTable } from '../../kernel/shared_state';
import { exitSem } from '../../kernel/ipc/undo';
import { NSPROXY_FLAGS, copyNamespaces, createUserNs, fsShared } from '../../kernel/ns/create';
import { nsproxyOf, setNsproxy } from '../../kernel/ns/nsproxy';
import { CLONE_NEWIPC, CLONE_NEWNS, CLONE_NEWUSER } from '../../kernel/ns_file';
import { commitCreds } from './commit_creds';
import { isChrooted, moveCwdToCopy } from '../../vfs/task_fs';
import type { SyscallArgs, SyscallTable } from './types';

const CLONE_VM = 0x100, CLONE_FS = 0x200, CLONE_FILES = 0x400, CLONE_SIGHAND = 0x800,
  CLONE_THREAD = 0x10000, CLONE_SYSVSEM = 0x40000;
const ALLOWED = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_NEWUSER |
  NSPROXY_FLAGS;

function sysUnshare(t: Task, a: SyscallArgs): number {
  let flags = a.uint(0);
  // What each flag implies (ksys_unshare), before the checks.
  if ((flags & CLONE_NEWUSER) !== 0) flags |= CLONE_THREAD | CLONE_FS;
  if ((flags & CLONE_VM) !== 0) flags |= CLONE_SIGHAND;
  if ((flags & CLONE_SIGHAND) !== 0) flags |= CLONE_THREAD;
  if ((flags & CLONE_NEWNS) !== 0) flags |= CLONE_FS;
  // check_unshare_flags: these only undo sharing that is not there.
  if ((flags & ~ALLOWED) !== 0) fail(EINVAL);
  if ((flags & (CLONE_THREAD | CLONE_SIGHAND | CLONE_VM)) !== 0 && t.tg.tasks.size > 1) fail(EINVAL);
  if ((flags & (CLONE_SIGHAND | CLONE_VM)) !== 0 && mmUserCount(t.mm) > 1) fail(EINVAL);

  let creds = t.creds;
  if ((flags & CLONE_NEWUSER) !== 0) {
    creds = t.creds.clone();
    createUserNs(creds, isChrooted(t));
  }
  const old = nsproxyOf(t);
  const proxy = copyNamespaces(t, old, flags, creds);

  // Everything checked: commit.
  if ((flags & (CLONE_NEWIPC | CLONE_SYSVSEM)) !== 0) exitSem(t);
  if ((flags & CLONE_FILES) !== 0) unshareFDTable(t);
  const oldFs = t.fs;
  if ((flags & CLONE_FS) !== 0 && fsShared(t)) t.fs = { ...t.fs };
  if (creds !== t.creds) commitCreds(t, creds);
  if (proxy !== old) setNsproxy(t, proxy);
  if (proxy.mnt !== old.mnt && proxy.mnt.copies !== null) moveCwdToCopy(t, oldFs, proxy.mnt.copies);
  return 0;
}

export function registerUnshare(table: SyscallTable): void {
  table[SYS_unshare] = { name: 'unshare', handler: sysUnshare, args: ['hex'] };
}
