// setns(2) (Linux kernel/nsproxy.c): join the namespace a /proc/<pid>/ns file names, or the
// namespaces of the process a pidfd names. The sandbox has only the initial namespaces, so
// every join is of the namespace the caller is already in: what is left of it are Linux's
// checks, in its order, and the one effect a join of the same namespace has, a mount
// namespace's moving the caller to its root. Not done: joining the same IPC namespace does not
// run the System V semaphore undo (exit_sem) as Linux does.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, EPERM, ESRCH, EUSERS } from '../../abi/linux/errno';
import { O_PATH } from '../../abi/linux/fcntl';
import { SYS_setns } from '../../abi/linux/syscall_numbers';
import { CAP_SYS_ADMIN, CAP_SYS_CHROOT } from '../../kernel/capabilities';
import { PidFd } from '../../kernel/pidfd';
import { ptraceMayAccess } from '../../kernel/ptrace_access';
import {
  CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWUSER, CLONE_NEWUTS,
  NS_CGROUP, NS_IPC, NS_MNT, NS_NET, NS_PID, NS_TIME, NS_USER, NS_UTS, NsFile, type NsKind,
} from '../../kernel/ns_file';
import { rootOf, setCwd } from '../../vfs/task_fs';
import { getFile } from './fd_util';
import type { SyscallArgs, SyscallTable } from './types';

const ALL = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWCGROUP | CLONE_NEWTIME | CLONE_NEWUSER;
/** validate_nsset's order of the namespaces a pidfd join installs. */
const PIDFD_ORDER: readonly NsKind[] = [NS_USER, NS_MNT, NS_UTS, NS_IPC, NS_PID, NS_CGROUP, NS_NET, NS_TIME];

/** The caller's FSContext is shared with another task (fs_struct users > 1). */
function fsShared(t: Task): boolean {
  for (const tg of t.kernel.threadGroups.values()) {
    for (const other of tg.tasks) if (other !== t && other.fs === t.fs) return true;
  }
  return false;
}

/** ns->ops->install for a namespace the caller is in already. */
function install(t: Task, ns: NsKind): void {
  const admin = t.creds.hasCapability(CAP_SYS_ADMIN);
  switch (ns) {
    case NS_USER: fail(EINVAL); // userns_install: not the namespace one is in
    case NS_MNT:
      if (!admin || !t.creds.hasCapability(CAP_SYS_CHROOT)) fail(EPERM);
      if (fsShared(t)) fail(EINVAL);
      return;
    case NS_TIME:
      if (t.tg.tasks.size > 1) fail(EUSERS);
      if (!admin) fail(EPERM);
      return;
    default:
      if (!admin) fail(EPERM);
  }
}

/** What a join does once every check passed (commit_nsset). */
function commit(t: Task, kinds: readonly NsKind[]): void {
  if (kinds.includes(NS_MNT)) setCwd(t, rootOf(t.kernel));
}

function sysSetns(t: Task, a: SyscallArgs): number {
  const fd = a.int(0), nstype = a.int(1);
  const f = getFile(t, fd);
  if (f instanceof NsFile && (f.flags & O_PATH) === 0) {
    if (nstype !== 0 && nstype !== f.ns.type) fail(EINVAL);
    install(t, f.ns);
    commit(t, [f.ns]);
    return 0;
  }
  if (!(f instanceof PidFd)) fail(EINVAL);
  if (nstype === 0 || (nstype & ~ALL) !== 0) fail(EINVAL);
  if (f.processExited) fail(ESRCH);
  if (!ptraceMayAccess(t, f.tg)) fail(EPERM);
  const kinds = PIDFD_ORDER.filter((k) => (nstype & k.type) !== 0);
  for (const k of kinds) install(t, k);
  commit(t, kinds);
  return 0;
}

export function registerSetns(table: SyscallTable): void {
  table[SYS_setns] = { name: 'setns', handler: sysSetns, args: ['fd', 'hex'] };
}
