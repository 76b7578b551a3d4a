// Making new namespaces for unshare(2) and clone(2) (Linux kernel/user_namespace.c
// create_user_ns, kernel/nsproxy.c copy_namespaces/unshare_nsproxy_namespaces): the checks in
// Linux's order and the objects. Callers commit the results once everything has passed.

import type { Task } from '../task';
import type { Credentials } from '../credentials';
import { fail } from '../syscall_error';
import { EINVAL, ENOSPC, EPERM } from '../../abi/linux/errno';
import { CAP_FULL_SET, CAP_EMPTY_SET, CAP_SYS_ADMIN, capRaised } from '../capabilities';
import {
  CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWUTS,
} from '../ns_file';
import { cgroupOf, setCgroupNsRoot } from '../cgroup/cgroup';
import { createNewNamespaces, SUPPORTED_NEW, type NsProxy } from './nsproxy';
import { kgidHasMapping, kuidHasMapping, newUserNamespace, userNsLimitReached } from './user_namespace';

const CAP_SETFCAP = 31;

/** Every namespace flag but CLONE_NEWUSER: those nsproxy holds. */
export const NSPROXY_FLAGS = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID |
  CLONE_NEWCGROUP | CLONE_NEWTIME;

/** create_user_ns on prepared credentials `creds` (a copy the caller will commit): a new user
 *  namespace below the current one, owned by the euid, where the task holds every capability. */
export function createUserNs(creds: Credentials, chrooted: boolean): void {
  const parent = creds.userNs;
  if (userNsLimitReached(parent)) fail(ENOSPC);
  // A chrooted task would escape its root in a namespace where it holds every capability.
  if (chrooted) fail(EPERM);
  // The creator must be nameable in the parent, to say who made the namespace.
  if (!kuidHasMapping(parent, creds.euid) || !kgidHasMapping(parent, creds.egid)) fail(EPERM);
  const ns = newUserNamespace(parent, creds.euid, creds.egid, capRaised(creds.capEffective, CAP_SETFCAP));
  // set_cred_user_ns.
  creds.securebits = 0;
  creds.capInheritable = CAP_EMPTY_SET;
  creds.capPermitted = CAP_FULL_SET;
  creds.capEffective = CAP_FULL_SET;
  creds.capAmbient = CAP_EMPTY_SET;
  creds.capBounding = CAP_FULL_SET;
  creds.userNs = ns;
}

/** copy_namespaces / unshare_nsproxy_namespaces: the task's namespaces with new ones for the
 *  CLONE_NEW* flags, administered from `creds` (the task's credentials after the call).
 *  A kind the sandbox could not make would be EINVAL, after the capability check, as from
 *  a kernel built without it. */
export function copyNamespaces(t: Task, old: NsProxy, flags: number, creds: Credentials): NsProxy {
  if ((flags & NSPROXY_FLAGS) === 0) return old;
  if (!creds.nsCapable(creds.userNs, CAP_SYS_ADMIN)) fail(EPERM);
  if ((flags & NSPROXY_FLAGS & ~SUPPORTED_NEW) !== 0) fail(EINVAL);
  const proxy = createNewNamespaces(t.kernel, old, flags, creds.userNs, t.threadPid.ns);
  // copy_cgroup_ns: the new namespace is rooted at the caller's cgroup.
  if (proxy.cgroup !== old.cgroup) setCgroupNsRoot(proxy.cgroup, cgroupOf(t.kernel, t.tg));
  return proxy;
}

/** The task's FSContext is shared with another task (fs_struct users > 1). */
export function fsShared(t: Task): boolean {
  for (const tg of t.kernel.threadGroups.values()) {
    for (const other of tg.tasks) if (other !== t && other.fs === t.fs) return true;
  }
  return false;
}
