// NsProxy (Linux kernel/nsproxy.c): the set of namespaces a task is in, besides its user
// namespace (which lives in its credentials). Tasks share one NsProxy until one of them
// unshares or joins (setns): then it gets a copy with the new members. A fork shares its
// parent's unless CLONE_NEW* asks for new ones. The initial set is made for each kernel on
// first use, with the inode numbers Linux gives its initial namespaces.
// Owns: which namespace a task is in. Must not touch: what a namespace holds (ipc, net, vfs).

import { TimeNamespace, initialTimeNamespace } from './time_ns';
import type { Kernel } from '../kernel';
import type { Task } from '../task';
import type { IpcNamespace } from '../ipc/ipc';
import { ipcNamespace, newIpcNamespace } from '../ipc/ipc';
import {
  NS_CGROUP, NS_IPC, NS_NET, NS_UTS, CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWUTS,
} from '../ns_file';
import { Namespace, StateNamespace, UtsNamespace } from './namespace';
import { INIT_USER_NS, type UserNamespace } from './user_namespace';
import { setupNetNamespace } from './net_ns';
import { inheritDevconf } from '../../net/devconf';
import { copyMntNamespace, initialMntNamespace, type MntNamespace } from './mnt_ns';
import { INIT_PID_NS, newPidNamespace, type PidNamespace } from './pid_ns';
import { fail } from '../syscall_error';
import { EINVAL } from '../../abi/linux/errno';

export type IpcNs = StateNamespace<IpcNamespace>;

export class NsProxy {
  constructor(
    readonly uts: UtsNamespace,
    readonly ipc: IpcNs,
    readonly mnt: MntNamespace,
    readonly net: Namespace,
    /** The pid namespace the task's children go in (the task's own is its thread group's). */
    readonly pidForChildren: PidNamespace,
    readonly cgroup: Namespace,
    readonly time: TimeNamespace,
    readonly timeForChildren: TimeNamespace,
  ) {}

  with(changes: Partial<NsProxy>): NsProxy {
    const n = { ...this, ...changes };
    return new NsProxy(n.uts, n.ipc, n.mnt, n.net, n.pidForChildren, n.cgroup, n.time, n.timeForChildren);
  }
}

/** The namespace flags the sandbox can make new namespaces for. */
export const SUPPORTED_NEW = CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID |
  CLONE_NEWTIME;

const initial = new WeakMap<Kernel, { proxy: NsProxy }>();
const proxies = new WeakMap<Task, NsProxy>();

function initialOf(k: Kernel): { proxy: NsProxy } {
  let i = initial.get(k);
  if (i === undefined) {
    const u = INIT_USER_NS;
    const pid = INIT_PID_NS;
    const time = initialTimeNamespace();
    const proxy = new NsProxy(
      new UtsNamespace(NS_UTS, u, k.hostname, k.domainname, NS_UTS.ino),
      new StateNamespace(NS_IPC, u, ipcNamespace(k), NS_IPC.ino),
      initialMntNamespace(k, u),
      new Namespace(NS_NET, u, NS_NET.ino),
      pid,
      new Namespace(NS_CGROUP, u, NS_CGROUP.ino),
      time, time,
    );
    i = { proxy };
    initial.set(k, i);
  }
  return i;
}

export function initNsProxy(k: Kernel): NsProxy { return initialOf(k).proxy; }

export function nsproxyOf(t: Task): NsProxy {
  return proxies.get(t) ?? initialOf(t.kernel).proxy;
}

export function setNsproxy(t: Task, p: NsProxy): void {
  proxies.set(t, p);
}

/** The pid namespace the task is in (task_active_pid_ns): its process's, for good. */
export function pidNsOf(t: Task): PidNamespace { return t.threadPid.ns; }

export function utsOf(t: Task): UtsNamespace { return nsproxyOf(t).uts; }
export function ipcOf(t: Task): IpcNamespace { return nsproxyOf(t).ipc.state; }

/** create_new_namespaces: a copy of `old` with a new namespace for each CLONE_NEW* flag, each
 *  owned by `userNs` (the task's user namespace after the call). A new pid namespace goes
 *  below `activePid`, the task's own, and only if its children would be there too. */
export function createNewNamespaces(k: Kernel, old: NsProxy, flags: number, userNs: UserNamespace,
  activePid: PidNamespace): NsProxy {
  const changes: { -readonly [K in keyof NsProxy]?: NsProxy[K] } = {};
  if ((flags & CLONE_NEWPID) !== 0) {
    // copy_pid_ns: not twice before a child was made in the first.
    if (old.pidForChildren !== activePid) fail(EINVAL);
    changes.pidForChildren = newPidNamespace(activePid, userNs);
  }
  if ((flags & CLONE_NEWUTS) !== 0) changes.uts = new UtsNamespace(NS_UTS, userNs, old.uts.hostname, old.uts.domainname);
  if ((flags & CLONE_NEWIPC) !== 0) changes.ipc = new StateNamespace(NS_IPC, userNs, newIpcNamespace(k, userNs));
  if ((flags & CLONE_NEWNS) !== 0) changes.mnt = copyMntNamespace(old.mnt, userNs);
  if ((flags & CLONE_NEWCGROUP) !== 0) changes.cgroup = new Namespace(NS_CGROUP, userNs);
  // copy_time_ns: the children's namespace gets a copy of the current children's offsets.
  if ((flags & CLONE_NEWTIME) !== 0) changes.timeForChildren = new TimeNamespace(userNs, old.timeForChildren);
  if ((flags & CLONE_NEWNET) !== 0) {
    changes.net = new Namespace(NS_NET, userNs);
    setupNetNamespace(changes.net);
    inheritDevconf(k, changes.net);
  }
  return old.with(changes);
}

/** The namespace /proc/<pid>/ns/<name> names for task t. */
export function taskNamespace(t: Task, name: string): Namespace | UserNamespace {
  const p = nsproxyOf(t);
  switch (name) {
    case 'net': return p.net;
    case 'uts': return p.uts;
    case 'ipc': return p.ipc;
    case 'pid': return pidNsOf(t);
    case 'pid_for_children': return p.pidForChildren;
    case 'user': return t.creds.userNs;
    case 'mnt': return p.mnt;
    case 'cgroup': return p.cgroup;
    case 'time': return p.time;
    default: return p.timeForChildren;
  }
}

/** The time namespace whose offsets the task's clocks carry. */
export function timeNsOf(t: Task): TimeNamespace { return nsproxyOf(t).time; }

/** timens_on_fork / timens_install's commit: a task enters its children's time namespace,
 *  whose offsets are frozen from then on. */
export function enterTimeNsForChildren(p: NsProxy): NsProxy {
  p.timeForChildren.frozen = true;
  return p.time === p.timeForChildren ? p : p.with({ time: p.timeForChildren });
}
