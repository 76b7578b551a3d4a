// PID namespaces (Linux kernel/pid_namespace.c, kernel/pid.c; gVisor kernel.PIDNamespace): a
// tree of numberings of tasks. A task made in namespace N has a number in N and in each of
// N's ancestors (struct pid's numbers[]); it is visible from those, and from nowhere else.
// The sentry's own ids (Task.tid, ThreadGroup.tgid, the Kernel's maps) are the initial
// namespace's numbers; the maps of every other namespace live here. A namespace's first
// process is its init: it adopts the namespace's orphans, and its death kills the rest and
// closes the namespace to new processes.
// Owns: numbering, visibility and lookup by number. Must not touch: what a task does.

import type { Kernel } from '../kernel';
import type { Task } from '../task';
import type { ThreadGroup } from '../thread_group';
import { fail } from '../syscall_error';
import { EEXIST, EINVAL, ENOMEM, ENOSPC, EPERM } from '../../abi/linux/errno';
import { CAP_SYS_ADMIN } from '../capabilities';
import type { Credentials } from '../credentials';
import { NS_PID } from './kinds';
import { Namespace } from './namespace';
import { INIT_USER_NS, type UserNamespace } from './user_namespace';

/** create_pid_namespace refuses a namespace at this level or deeper (MAX_PID_NS_LEVEL). */
const MAX_PID_NS_LEVEL = 32;

export class PidNamespace extends Namespace {
  readonly level: number;
  /** This namespace's ancestors by level, itself last: chain[level] === this. */
  readonly chain: readonly PidNamespace[];
  /** Numbers in this namespace (for the initial one the Kernel's maps are used instead). */
  readonly tasks = new Map<number, Task>();
  readonly threadGroups = new Map<number, ThreadGroup>();
  /** ns_last_pid: the last number given out. */
  lastPid = 0;
  /** child_reaper: the namespace's init once it is made. */
  init: ThreadGroup | null = null;
  /** PIDNS_ADDING cleared: init has died, no process can be made in here any more. */
  closed = false;
  /** zap_pid_ns_processes' wait: run once init is the namespace's last process. */
  onEmpty: (() => void) | null = null;

  constructor(readonly parent: PidNamespace | null, userNs: UserNamespace, ino?: number) {
    super(NS_PID, userNs, ino);
    this.level = parent === null ? 0 : parent.level + 1;
    this.chain = parent === null ? [this] : [...parent.chain, this];
  }

  /** This namespace is ns or one of its ancestors (pidns_is_ancestor). */
  isAncestorOf(ns: PidNamespace): boolean {
    return ns.level >= this.level && ns.chain[this.level] === this;
  }
}

/** The initial pid namespace: one object for the whole sentry, as INIT_USER_NS. Its numbers
 *  are each Kernel's own (Task.tid, ThreadGroup.tgid). */
export const INIT_PID_NS = new PidNamespace(null, INIT_USER_NS, NS_PID.ino);

/** struct pid: the namespace a task was made in and its number in each level up to it. */
export class Pid {
  constructor(readonly ns: PidNamespace, readonly nrs: readonly number[]) {}

  /** pid_nr_ns: the number in ns, 0 if not visible there. */
  nr(ns: PidNamespace): number {
    return ns.isAncestorOf(this.ns) ? this.nrs[ns.level] : 0;
  }
}

/** A number of the initial namespace only (the sandbox's first process, and test fakes). */
export function rootPid(nr: number): Pid {
  return new Pid(INIT_PID_NS, [nr]);
}

/** create_pid_namespace: a namespace below parent, owned by userNs. */
export function newPidNamespace(parent: PidNamespace, userNs: UserNamespace): PidNamespace {
  if (parent.level + 1 > MAX_PID_NS_LEVEL) fail(ENOSPC);
  return new PidNamespace(parent, userNs);
}

/** /proc/sys/kernel/pid_max: set_tid may not name this or above. */
export const PID_MAX = 4194304;
const CAP_CHECKPOINT_RESTORE = 40;

/** checkpoint_restore_ns_capable: choosing pids in ns. */
function mayChoosePids(creds: Credentials, ns: PidNamespace): boolean {
  return creds.nsCapable(ns.userNs, CAP_SYS_ADMIN) || creds.nsCapable(ns.userNs, CAP_CHECKPOINT_RESTORE);
}

/** alloc_pid's numbers for a task made in ns: one per level, the initial namespace's from the
 *  kernel; clone3's set_tid chooses them from ns upwards (each needs CAP_SYS_ADMIN or
 *  CAP_CHECKPOINT_RESTORE over its level's owner, and a free number: EEXIST). A namespace
 *  whose init died takes no one (ENOMEM, as Linux). */
export function allocPid(k: Kernel, ns: PidNamespace, creds: Credentials, setTid: readonly number[] = []): Pid {
  if (setTid.length > ns.level + 1) fail(EINVAL);
  const nrs: number[] = new Array<number>(ns.level + 1);
  for (let l = ns.level; l >= 0; l--) {
    const n = ns.chain[l];
    const i = ns.level - l;
    if (i >= setTid.length) {
      nrs[l] = 0;
      continue;
    }
    const tid = setTid[i];
    if (tid < 1 || tid >= PID_MAX) fail(EINVAL);
    // Only init may be chosen in a namespace that has none yet.
    if (tid !== 1 && l > 0 && n.init === null) fail(EINVAL);
    if (!mayChoosePids(creds, n)) fail(EPERM);
    if (taskInNs(k, n, tid) !== undefined || threadGroupInNs(k, n, tid) !== undefined) fail(EEXIST);
    nrs[l] = tid;
  }
  for (const n of ns.chain) if (n.closed) fail(ENOMEM);
  for (let l = 0; l <= ns.level; l++) if (nrs[l] === 0) nrs[l] = l === 0 ? k.allocPid() : nextFree(ns.chain[l]);
  return new Pid(ns, nrs);
}

/** /proc/sys/kernel/ns_last_pid of the reader's namespace. */
export function nsLastPid(k: Kernel, ns: PidNamespace): number {
  return ns.level === 0 ? k.lastPid : ns.lastPid;
}

/** pid_ns_ctl_handler's write: CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE over the namespace's
 *  owner (EPERM, before the value is parsed); the next fork's pid follows it. */
export function setNsLastPid(k: Kernel, ns: PidNamespace, creds: Credentials, parse: () => number): void {
  if (!mayChoosePids(creds, ns)) fail(EPERM);
  const v = parse();
  if (ns.level === 0) k.lastPid = v;
  else ns.lastPid = v;
}

/** Pids below this are not given again once the counter has passed it (RESERVED_PIDS). */
const RESERVED_PIDS = 300;

/** alloc_pid's cyclic search from the last pid, wrapping at pid_max. */
function nextFree(n: PidNamespace): number {
  const min = n.lastPid + 1 > RESERVED_PIDS ? RESERVED_PIDS : 1;
  let c = n.lastPid + 1;
  for (;;) {
    if (c >= PID_MAX) c = min;
    if (!n.tasks.has(c) && !n.threadGroups.has(c)) break;
    c++;
  }
  n.lastPid = c;
  return c;
}

/** attach_pid: the task is found by its numbers in every namespace above the initial one. */
export function attachTask(t: Task): void {
  const p = t.threadPid;
  for (let l = 1; l <= p.ns.level; l++) p.ns.chain[l].tasks.set(p.nrs[l], t);
}

export function detachTask(t: Task): void {
  const p = t.threadPid;
  for (let l = 1; l <= p.ns.level; l++) {
    const m = p.ns.chain[l].tasks;
    if (m.get(p.nrs[l]) === t) m.delete(p.nrs[l]);
  }
}

export function attachThreadGroup(tg: ThreadGroup): void {
  const p = tg.leaderPid;
  for (let l = 1; l <= p.ns.level; l++) p.ns.chain[l].threadGroups.set(p.nrs[l], tg);
}

/** The process's number is free: it leaves every map, and a dying namespace may be empty. */
export function detachThreadGroup(tg: ThreadGroup): void {
  const p = tg.leaderPid;
  for (let l = p.ns.level; l >= 1; l--) {
    const n = p.ns.chain[l];
    if (n.threadGroups.get(p.nrs[l]) === tg) n.threadGroups.delete(p.nrs[l]);
    if (n.onEmpty !== null && n.threadGroups.size <= 1) {
      const done = n.onEmpty;
      n.onEmpty = null;
      done();
    }
  }
}

/** The task whose thread id is `id` in ns. */
export function taskInNs(k: Kernel, ns: PidNamespace, id: number): Task | undefined {
  return ns.level === 0 ? k.tasks.get(id) : ns.tasks.get(id);
}

/** The process whose id is `id` in ns (live or zombie). */
export function threadGroupInNs(k: Kernel, ns: PidNamespace, id: number): ThreadGroup | undefined {
  return ns.level === 0 ? k.threadGroups.get(id) : ns.threadGroups.get(id);
}

/** Every process numbered in ns. */
export function threadGroupsOf(k: Kernel, ns: PidNamespace): Map<number, ThreadGroup> {
  return ns.level === 0 ? k.threadGroups : ns.threadGroups;
}

/** find_task_by_vpid: a thread by its id as t's namespace numbers it. */
export function findTask(t: Task, id: number): Task | undefined {
  return taskInNs(t.kernel, t.threadPid.ns, id);
}

/** find_vpid's process: a process by its id as t's namespace numbers it. */
export function findThreadGroup(t: Task, id: number): ThreadGroup | undefined {
  return threadGroupInNs(t.kernel, t.threadPid.ns, id);
}

/** task_pid_nr_ns. */
export function tidIn(ns: PidNamespace, task: Task): number {
  return ns.level === 0 ? task.tid : task.threadPid.nr(ns);
}

/** task_tgid_nr_ns. */
export function tgidIn(ns: PidNamespace, tg: ThreadGroup): number {
  return ns.level === 0 ? tg.tgid : tg.leaderPid.nr(ns);
}

/** The thread's id in its own namespace (what gettid told it: futex words hold this). */
export function ownTid(t: Task): number { return tidIn(t.threadPid.ns, t); }

/** task_pid_vnr: the thread's id as t sees it. */
export function vtid(t: Task, task: Task): number { return tidIn(t.threadPid.ns, task); }

/** task_tgid_vnr: the process's id as t sees it (0 when outside t's namespace). */
export function vtgid(t: Task, tg: ThreadGroup | null): number {
  return tg === null ? 0 : tgidIn(t.threadPid.ns, tg);
}

/** A process, group or session id (the sentry's number and its struct pid) as ns numbers it. */
export function groupIdIn(ns: PidNamespace, nr: number, pid: Pid | undefined): number {
  if (ns.level === 0) return nr;
  return pid?.nr(ns) ?? 0;
}

/** is_child_reaper: tg is the init of a namespace other than the initial one. */
export function isNsInit(tg: ThreadGroup): boolean {
  const ns = tg.leaderPid.ns;
  return ns.level > 0 && ns.init === tg;
}

/** A namespace's init that waits for the rest of its namespace to be gone before its parent
 *  may hear of its death. */
export function zappingPidNs(tg: ThreadGroup): boolean {
  return isNsInit(tg) && tg.leaderPid.ns.onEmpty !== null;
}
