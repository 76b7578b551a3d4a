// SEM_UNDO records (Linux struct sem_undo_list): per task, since threads made without
// CLONE_SYSVSEM (all of glibc's) each have their own, and a fork child starts with none.
// exitSem, called when a task ends, gives back what its SEM_UNDO operations took.

import type { Task } from '../task';
import type { SemAdj, SemSet } from './sem';

const lists = new WeakMap<Task, Map<SemSet, SemAdj>>();

/** find_alloc_undo: the task's record for the set, made on first use. */
export function undoFor(t: Task, set: SemSet): SemAdj {
  let m = lists.get(t);
  if (m === undefined) {
    m = new Map();
    lists.set(t, m);
  }
  let adj = m.get(set);
  if (adj === undefined) {
    adj = new Int32Array(set.nsems);
    m.set(set, adj);
    set.undos.add(adj);
  }
  return adj;
}

/** exit_sem: apply and forget every record of the task (sets removed since are skipped). */
export function exitSem(t: Task): void {
  const m = lists.get(t);
  if (m === undefined) return;
  lists.delete(t);
  for (const [set, adj] of m) if (!set.perm.deleted && set.undos.has(adj)) set.applyUndo(adj, t.pid);
}
