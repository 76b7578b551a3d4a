// Changing the hierarchy (Linux kernel/cgroup/cgroup.c): mkdir and rmdir of cgroups, moving
// processes (cgroup.procs, cgroup.threads), enabling controllers (cgroup.subtree_control)
// and the core settings, each with the checks and errnos Linux has. Every controller the
// sandbox has (cpuset, cpu, pids) is a threaded one, so the no-internal-process rule bites
// only where Linux's does for them: a cgroup with populated children (cgroup_can_be_thread_root).

import type { Task } from '../task';
import type { Credentials } from '../credentials';
import { fail } from '../syscall_error';
import { EACCES, EAGAIN, EBUSY, EINVAL, ENOENT, ENOTSUP as EOPNOTSUPP, ERANGE, ESRCH } from '../../abi/linux/errno';
import { SIGKILL } from '../../abi/linux/signal';
import { CAP_DAC_OVERRIDE } from '../capabilities';
import { sendSignalToProcess, SI_KERNEL } from '../signals';
import { sigInfo } from '../sig_pending';
import { findTask } from '../ns/pid_ns';
import { CONTROLLERS, type Controller, Cgroup, cgroupNsRoot, cgroupOf, setCgroup } from './cgroup';
import { processCpuNs } from './controllers';
import { kstrtoint, strstrip } from './kstrto';

/** INT_MAX: "max" for cgroup.max.depth and cgroup.max.descendants. */
const INT_MAX = 0x7fffffff;

/** Whether creds may write cg's files (the write permission of a file owned by the cgroup's
 *  owner, mode 0644). */
function mayWrite(cg: Cgroup, creds: Credentials): boolean {
  return creds.fsuid === cg.owner.uid || creds.hasCapability(CAP_DAC_OVERRIDE);
}

/** The sandbox's own ceiling on its tree, below any cgroup.max.* (Linux's default is
 *  unlimited, bounded by kernel memory, which the sandbox's limits do not cover here): past
 *  it mkdir is EAGAIN, as for a hierarchy limit. */
const SANDBOX_MAX_DEPTH = 256, SANDBOX_MAX_CGROUPS = 16384;

/** cgroup_mkdir: a child cgroup called name under parent, owned by its maker. */
export function mkdirCgroup(parent: Cgroup, name: string, mode: number, creds: Credentials): Cgroup {
  if (name.includes('\n')) fail(EINVAL);
  let top = parent;
  while (top.parent !== null) top = top.parent;
  if (parent.level + 1 > SANDBOX_MAX_DEPTH || top.nrDescendants >= SANDBOX_MAX_CGROUPS) fail(EAGAIN);
  // cgroup_check_hierarchy_limits, for the parent and each cgroup above it.
  let level = 1;
  for (let c: Cgroup | null = parent; c !== null; c = c.parent, level++) {
    if (c.nrDescendants >= c.maxDescendants || level > c.maxDepth) fail(EAGAIN);
  }
  const cg = new Cgroup(name, parent, { uid: creds.fsuid, gid: creds.fsgid }, mode);
  parent.children.set(name, cg);
  for (let c: Cgroup | null = parent; c !== null; c = c.parent) c.nrDescendants++;
  return cg;
}

/** cgroup_destroy_locked: only an empty cgroup without children goes. */
export function rmdirCgroup(cg: Cgroup): void {
  if (cg.parent === null || cg.populated() || cg.children.size > 0) fail(EBUSY);
  cg.removed = true;
  cg.parent.children.delete(cg.name);
  for (let c: Cgroup | null = cg.parent; c !== null; c = c.parent) c.nrDescendants--;
}

/** cgroup_can_be_thread_root: with only threaded controllers to enable, a cgroup without
 *  populated children can hold processes alongside its children. */
function canBeThreadRoot(cg: Cgroup): boolean {
  for (const c of cg.children.values()) if (c.populated()) return false;
  return true;
}

/** cgroup_attach_permissions for a write to dst's cgroup.procs (threadgroup) or
 *  cgroup.threads (one thread), or a clone into dst. */
export function checkAttach(t: Task, src: Cgroup, dst: Cgroup, threadgroup: boolean): void {
  let common = src;
  while (!common.isAncestorOf(dst)) common = common.parent!;
  if (!mayWrite(common, t.creds)) fail(EACCES);
  // nsdelegate: both ends must be inside the writer's cgroup namespace.
  const nsRoot = cgroupNsRoot(t);
  if (!nsRoot.isAncestorOf(src) || !nsRoot.isAncestorOf(dst)) fail(ENOENT);
  // cgroup_migrate_vet_dst: the no-internal-process rule.
  if (!canBeThreadRoot(dst) && dst.subtreeControl.size > 0) fail(EBUSY);
  // A thread moves only within its process's domain (threaded cgroups are not offered).
  if (!threadgroup && src !== dst) fail(EOPNOTSUPP);
}

/** A write to dst's cgroup.procs (threadgroup) or cgroup.threads: the pid's process or
 *  thread moves there. */
export function writeProcs(t: Task, dst: Cgroup, text: string, threadgroup: boolean): void {
  let pid: number;
  try {
    pid = kstrtoint(strstrip(text), 0, INT_MAX);
  } catch {
    return fail(EINVAL);
  }
  const task = pid === 0 ? t : findTask(t, pid);
  if (!task || task.exited) fail(ESRCH);
  const tg = task.tg;
  const src = cgroupOf(t.kernel, tg);
  checkAttach(t, src, dst, threadgroup);
  if (tg.zombie || tg.exitStatus !== null) return;
  setCgroup(t.kernel, tg, dst, processCpuNs(tg));
}

/** cgroup_subtree_control_write. */
export function writeSubtreeControl(cg: Cgroup, text: string): void {
  const enable = new Set<Controller>(), disable = new Set<Controller>();
  for (const tok of strstrip(text).split(' ')) {
    if (tok === '') continue;
    const name = CONTROLLERS.find((c) => c === tok.slice(1));
    if (name === undefined) fail(EINVAL);
    if (tok[0] === '+') { enable.add(name); disable.delete(name); }
    else if (tok[0] === '-') { disable.add(name); enable.delete(name); }
    else fail(EINVAL);
  }
  for (const c of CONTROLLERS) {
    if (enable.has(c)) {
      if (cg.subtreeControl.has(c)) { enable.delete(c); continue; }
      if (!cg.controllers().has(c)) fail(ENOENT);
    } else if (disable.has(c)) {
      if (!cg.subtreeControl.has(c)) { disable.delete(c); continue; }
      for (const child of cg.children.values()) if (child.subtreeControl.has(c)) fail(EBUSY);
    }
  }
  if (enable.size === 0 && disable.size === 0) return;
  // cgroup_vet_subtree_control_enable, for threaded controllers.
  if (enable.size > 0 && !canBeThreadRoot(cg) && cg.liveProcs().length > 0) fail(EBUSY);
  for (const c of enable) cg.subtreeControl.add(c);
  for (const c of disable) cg.subtreeControl.delete(c);
}

/** cgroup.max.depth / cgroup.max.descendants: "max" or a count. */
export function parseMaxCount(text: string): number {
  const s = strstrip(text);
  if (s === 'max') return Infinity;
  const v = kstrtoint(s, -0x80000000, INT_MAX);
  if (v < 0) fail(ERANGE);
  return v === INT_MAX ? Infinity : v;
}

export function showMaxCount(v: number): string {
  return v === Infinity ? 'max\n' : `${v}\n`;
}

/** cgroup.kill: "1" kills every process in the cgroup and below. */
export function writeKill(cg: Cgroup, text: string): void {
  if (kstrtoint(strstrip(text), -0x80000000, INT_MAX) !== 1) fail(ERANGE);
  const all = [cg, ...cg.descendants()];
  for (const c of all) for (const tg of c.liveProcs()) sendSignalToProcess(tg, sigInfo(SIGKILL, SI_KERNEL));
}
