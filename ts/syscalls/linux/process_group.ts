// Process groups and sessions of thread groups (Linux signal_struct's pids[PIDTYPE_PGID,
// PIDTYPE_SID]). ThreadGroup has no fields for them yet, so they live here, keyed by the
// group. A process nobody has set inherits its parent's ids; the first process leads both
// its group and its session. fork should call inheritProcessGroup so that a child keeps the
// ids its parent had at fork time, even if the parent moves later.

import type { Kernel } from '../../kernel/kernel';
import type { ThreadGroup } from '../../kernel/thread_group';

export interface ProcessGroupIds { pgid: number; sid: number }

const ids = new WeakMap<ThreadGroup, ProcessGroupIds>();

export function processGroupIds(tg: ThreadGroup): ProcessGroupIds {
  let v = ids.get(tg);
  if (!v) {
    v = tg.parent ? { ...processGroupIds(tg.parent) } : { pgid: tg.tgid, sid: tg.tgid };
    ids.set(tg, v);
  }
  return v;
}

export function setProcessGroupIds(tg: ThreadGroup, v: ProcessGroupIds): void {
  ids.set(tg, { ...v });
}

export function inheritProcessGroup(parent: ThreadGroup, child: ThreadGroup): void {
  ids.set(child, { ...processGroupIds(parent) });
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
