// Process groups and sessions of thread groups (Linux signal_struct's pids[PIDTYPE_PGID,
// PIDTYPE_SID]). ThreadGroup has no fields for them yet, so they live here, keyed by the
// group. A process nobody has set inherits its parent's ids; the first process leads both
// its group and its session. fork should call inheritProcessGroup so that a child keeps the
// ids its parent had at fork time, even if the parent moves later.

import type { Kernel } from '../../kernel/kernel';
import type { ThreadGroup } from '../../kernel/thread_group';
import { consoleTty } from '../../vfs/host_tty';
import { groupIdIn, type Pid, type PidNamespace } from '../../kernel/ns/pid_ns';

/** The sandbox's first process. */
const ROOT_TGID = 1;

export interface ProcessGroupIds {
  /** The sentry's (initial namespace's) numbers, and the struct pids that number them in
   *  every namespace (what getpgid and friends translate). */
  pgid: number;
  sid: number;
  pgrp: Pid;
  session: Pid;
  /** The controlling terminal (signal_struct.tty): inherited by fork, dropped by setsid. */
  tty?: import('../../kernel/job_control_tty').JobControlTty | null;
}

const ids = new WeakMap<ThreadGroup, ProcessGroupIds>();

export function processGroupIds(tg: ThreadGroup): ProcessGroupIds {
  let v = ids.get(tg);
  if (!v) {
    // The first process's session has tsvisor's terminal, if any, as its own.
    v = tg.parent ? { ...processGroupIds(tg.parent) }
      : { pgid: tg.tgid, sid: tg.tgid, pgrp: tg.leaderPid, session: tg.leaderPid, tty: consoleTty() };
    ids.set(tg, v);
  }
  return v;
}

/** New ids; the controlling terminal stays unless v names one (setsid drops it). */
export function setProcessGroupIds(tg: ThreadGroup, v: ProcessGroupIds): void {
  ids.set(tg, { tty: processGroupIds(tg).tty ?? null, ...v });
}

export function inheritProcessGroup(parent: ThreadGroup, child: ThreadGroup): void {
  ids.set(child, { ...processGroupIds(parent) });
}

/** The process's group id as namespace ns numbers it (0 if the group is outside it). */
export function pgidIn(ns: PidNamespace, tg: ThreadGroup): number {
  const v = processGroupIds(tg);
  return groupIdIn(ns, v.pgid, v.pgrp);
}

/** The process's session id as namespace ns numbers it. */
export function sidIn(ns: PidNamespace, tg: ThreadGroup): number {
  const v = processGroupIds(tg);
  return groupIdIn(ns, v.sid, v.session);
}

/** Whether any live process belongs to process group pgid. */
export function processGroupExists(k: Kernel, pgid: number): boolean {
  for (const tg of k.threadGroups.values()) {
    if (processGroupIds(tg).pgid === pgid) return true;
  }
  return false;
}

/** Whether a live process in session sid belongs to process group pgid. */
export function processGroupInSession(k: Kernel, pgid: number, sid: number): boolean {
  for (const tg of k.threadGroups.values()) {
    const v = processGroupIds(tg);
    if (v.pgid === pgid && v.sid === sid) return true;
  }
  return false;
}

/** Processes init adopted when their parent died: for them init is the machine's init,
 *  which does no job control (is_global_init), as natively. */
const adoptedByInit = new WeakSet<ThreadGroup>();

export function markAdoptedByInit(tg: ThreadGroup): void { adoptedByInit.add(tg); }

/** will_become_orphaned_pgrp: no member has a parent in another group of the same
 *  session (a parent that could continue the job). The sandbox's init counts as such a
 *  parent for its own children (it may be a shell doing job control), not for those it
 *  adopted; and the first process's own parent is whoever ran tsvisor (a shell, say),
 *  which can continue it, as natively. */
export function isPgrpOrphaned(k: Kernel, tg: ThreadGroup): boolean {
  const { pgid, sid } = processGroupIds(tg);
  for (const m of k.threadGroups.values()) {
    if (m.zombie || m.reaped) continue;
    const ids = processGroupIds(m);
    if (ids.pgid !== pgid) continue;
    if (!m.parent) {
      if (m.tgid === ROOT_TGID && ids.sid === ROOT_TGID) return false;
      continue;
    }
    if (m.parent.tgid === ROOT_TGID && adoptedByInit.has(m)) continue;
    const p = processGroupIds(m.parent);
    if (p.pgid !== pgid && p.sid === sid) return false;
  }
  return true;
}
