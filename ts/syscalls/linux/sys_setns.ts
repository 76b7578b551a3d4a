// setns(2) (Linux kernel/nsproxy.c): join the namespace a /proc/<pid>/ns file names, or the
// namespaces of the process a pidfd names. Each kind's install check runs in Linux's order
// (validate_nsset), against the credentials as they will be after a user-namespace join;
// nothing changes unless every one passes (commit_nsset). A mount-namespace join moves the
// caller to its root (the sandbox has one mount tree); an IPC join drops the semaphore undo
// records (exit_sem); a user-namespace join gives every capability in it.

import { switchVvar } from '../../loader/vdso';
import { vvarBacking } from '../../kernel/vvar_page';
import type { Task } from '../../kernel/task';
import type { Credentials } from '../../kernel/credentials';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, EPERM, ESRCH, EUSERS } from '../../abi/linux/errno';
import { O_PATH } from '../../abi/linux/fcntl';
import { SYS_setns } from '../../abi/linux/syscall_numbers';
import { CAP_EMPTY_SET, CAP_FULL_SET, CAP_SYS_ADMIN, CAP_SYS_CHROOT } from '../../kernel/capabilities';
import { PidFd } from '../../kernel/pidfd';
import { ptraceMayAccess } from '../../kernel/ptrace_access';
import { exitSem } from '../../kernel/ipc/undo';
import {
  CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWUSER, CLONE_NEWUTS,
  NS_CGROUP, NS_IPC, NS_MNT, NS_NET, NS_PID, NS_TIME, NS_USER, NS_UTS, NsFile, nsKindOf, type AnyNamespace,
  type NsKind,
} from '../../kernel/ns_file';
import type { Namespace, UtsNamespace } from '../../kernel/ns/namespace';
import type { UserNamespace } from '../../kernel/ns/user_namespace';
import { fsShared } from '../../kernel/ns/create';
import type { MntNamespace } from '../../kernel/ns/mnt_ns';
import type { PidNamespace } from '../../kernel/ns/pid_ns';
import type { TimeNamespace } from '../../kernel/ns/time_ns';
import { nsproxyOf, setNsproxy, taskNamespace, type IpcNs, type NsProxy } from '../../kernel/ns/nsproxy';
import { setCwd, taskRoot } from '../../vfs/task_fs';
import { commitCreds } from './commit_creds';
import { getFile } from './fd_util';
import type { SyscallArgs, SyscallTable } from './types';

const ALL = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWCGROUP | CLONE_NEWTIME | CLONE_NEWUSER;
/** validate_nsset's order of the namespaces a pidfd join installs, with the ns dir's names. */
const PIDFD_ORDER: readonly (readonly [NsKind, string])[] = [
  [NS_USER, 'user'], [NS_MNT, 'mnt'], [NS_UTS, 'uts'], [NS_IPC, 'ipc'], [NS_PID, 'pid'], [NS_CGROUP, 'cgroup'],
  [NS_NET, 'net'], [NS_TIME, 'time'],
];

/** struct nsset: what the join will install. */
interface NsSet {
  creds: Credentials;
  proxy: { -readonly [K in keyof NsProxy]?: NsProxy[K] };
  kinds: NsKind[];
}

/** ns->ops->install: the checks, and the change recorded in `set`. */
function install(t: Task, set: NsSet, ns: AnyNamespace): void {
  const kind = nsKindOf(ns);
  const cur = t.creds;
  // Most kinds: CAP_SYS_ADMIN over the namespace's owner and over the (new) user namespace.
  const admin = (owner: UserNamespace): boolean =>
    cur.nsCapable(owner, CAP_SYS_ADMIN) && cur.nsCapable(set.creds.userNs, CAP_SYS_ADMIN);
  set.kinds.push(kind);
  switch (kind) {
    case NS_USER: {
      const userNs = ns as UserNamespace;
      // userns_install: no regaining capabilities by re-entering one's own namespace.
      if (userNs === cur.userNs) fail(EINVAL);
      if (t.tg.tasks.size > 1) fail(EINVAL);
      if (fsShared(t)) fail(EINVAL);
      if (!cur.nsCapable(userNs, CAP_SYS_ADMIN)) fail(EPERM);
      const c = set.creds === cur ? cur.clone() : set.creds;
      c.securebits = 0;
      c.capInheritable = CAP_EMPTY_SET;
      c.capPermitted = c.capEffective = c.capBounding = CAP_FULL_SET;
      c.capAmbient = CAP_EMPTY_SET;
      c.userNs = userNs;
      set.creds = c;
      return;
    }
    case NS_MNT:
      if (!cur.nsCapable((ns as Namespace).userNs, CAP_SYS_ADMIN) || !cur.nsCapable(set.creds.userNs, CAP_SYS_CHROOT) ||
        !cur.nsCapable(set.creds.userNs, CAP_SYS_ADMIN)) fail(EPERM);
      if (fsShared(t)) fail(EINVAL);
      set.proxy.mnt = ns as MntNamespace;
      return;
    case NS_TIME:
      if (t.tg.tasks.size > 1) fail(EUSERS);
      if (!admin((ns as Namespace).userNs)) fail(EPERM);
      set.proxy.time = set.proxy.timeForChildren = ns as TimeNamespace;
      return;
    case NS_PID: {
      if (!admin((ns as Namespace).userNs)) fail(EPERM);
      // pidns_install: only the caller's own namespace or one below it.
      const target = ns as PidNamespace;
      if (!t.threadPid.ns.isAncestorOf(target)) fail(EINVAL);
      set.proxy.pidForChildren = target;
      return;
    }
    default:
      if (!admin((ns as Namespace).userNs)) fail(EPERM);
      if (kind === NS_UTS) set.proxy.uts = ns as UtsNamespace;
      else if (kind === NS_IPC) set.proxy.ipc = ns as IpcNs;
      else if (kind === NS_NET) set.proxy.net = ns as Namespace;
      else if (kind === NS_CGROUP) set.proxy.cgroup = ns as Namespace;
  }
}

/** commit_nsset: what a join does once every check passed. */
function commit(t: Task, set: NsSet): void {
  if (set.creds !== t.creds) commitCreds(t, set.creds);
  if (set.kinds.includes(NS_IPC)) exitSem(t);
  if (Object.keys(set.proxy).length > 0) setNsproxy(t, nsproxyOf(t).with(set.proxy));
  // timens_commit: a namespace a task has entered keeps its offsets, and its process reads
  // that namespace's clocks through the vDSO (vdso_join_timens; it is single-threaded).
  if (set.kinds.includes(NS_TIME)) {
    nsproxyOf(t).time.frozen = true;
    switchVvar(t.mm, vvarBacking(t.kernel, nsproxyOf(t).time));
  }
  if (set.kinds.includes(NS_MNT)) {
    // mntns_install: root and working directory become the new namespace's root.
    t.fs.root = undefined;
    setCwd(t, taskRoot(t));
  }
}

function sysSetns(t: Task, a: SyscallArgs): number {
  const fd = a.int(0), nstype = a.int(1);
  const f = getFile(t, fd);
  const set: NsSet = { creds: t.creds, proxy: {}, kinds: [] };
  if (f instanceof NsFile && (f.flags & O_PATH) === 0) {
    if (nstype !== 0 && nstype !== f.kind.type) fail(EINVAL);
    install(t, set, f.ns);
    commit(t, set);
    return 0;
  }
  if (!(f instanceof PidFd)) fail(EINVAL);
  if (nstype === 0 || (nstype & ~ALL) !== 0) fail(EINVAL);
  if (f.processExited) fail(ESRCH);
  const target = f.tg.tasks.values().next().value as Task | undefined;
  if (target === undefined) fail(ESRCH);
  if (!ptraceMayAccess(t, f.tg)) fail(EPERM);
  for (const [k, name] of PIDFD_ORDER) if ((nstype & k.type) !== 0) install(t, set, taskNamespace(target, name));
  commit(t, set);
  return 0;
}

export function registerSetns(table: SyscallTable): void {
  table[SYS_setns] = { name: 'setns', handler: sysSetns, args: ['fd', 'hex'] };
}
