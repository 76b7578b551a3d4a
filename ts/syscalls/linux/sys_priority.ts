// getpriority, setpriority (Linux kernel/sys.c) and ioprio_get, ioprio_set (block/ioprio.c).
// A target is one task (PRIO_PROCESS, by tid), every task of a process group, or every task
// of a real uid. Values are recorded and reported; the event loop schedules no differently.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EACCES, EINVAL, EPERM, ESRCH } from '../../abi/linux/errno';
import { CAP_SYS_ADMIN, CAP_SYS_NICE } from '../../kernel/capabilities';
import { RLIMIT_NICE } from '../../kernel/rlimits';
import {
  SYS_getpriority, SYS_ioprio_get, SYS_ioprio_set, SYS_setpriority,
} from '../../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallTable } from './types';
import { processGroupIds } from './process_group';
import { taskAttrs } from './task_attrs';
import { findTask, findThreadGroup } from '../../kernel/ns/pid_ns';

const PRIO_PROCESS = 0;
const PRIO_PGRP = 1;
const PRIO_USER = 2;
export const MIN_NICE = -20;
export const MAX_NICE = 19;

const IOPRIO_CLASS_NONE = 0;
const IOPRIO_CLASS_RT = 1;
const IOPRIO_CLASS_BE = 2;
const IOPRIO_CLASS_IDLE = 3;
const IOPRIO_CLASS_SHIFT = 13;
const IOPRIO_LEVEL_MASK = 7;

/** The tasks `which`/`who` name (IOPRIO_WHO_* are PRIO_* + 1). */
function targets(t: Task, which: number, who: number): Task[] {
  const live = [...t.kernel.tasks.values()].filter((x) => !x.exited);
  switch (which) {
    case PRIO_PROCESS: {
      if (who === 0) return [t];
      const p = findTask(t, who);
      if (p && !p.exited) return [p];
      // A zombie stays findable by its pid until it is reaped (its exited threads do not):
      // its last thread answers.
      const tg = p ? undefined : findThreadGroup(t, who);
      return tg && tg.tgid === who && !tg.reaped && tg.lastExited ? [tg.lastExited] : [];
    }
    case PRIO_PGRP: {
      const pgid = who === 0 ? processGroupIds(t.tg).pgid : who;
      return live.filter((x) => processGroupIds(x.tg).pgid === pgid);
    }
    case PRIO_USER: {
      const uid = who === 0 ? t.creds.uid : who >>> 0;
      return live.filter((x) => x.creds.uid === uid);
    }
    default:
      fail(EINVAL);
  }
}

/** can_nice: a lower nice within RLIMIT_NICE (20 - nice), or CAP_SYS_NICE. */
export function canNice(t: Task, target: Task, nice: number): boolean {
  return BigInt(20 - nice) <= target.tg.rlimits[RLIMIT_NICE].cur || t.creds.hasCapability(CAP_SYS_NICE);
}

/** set_one_prio's permission: the target's real or effective uid is our effective one. */
function mayReprioritize(t: Task, target: Task): boolean {
  const c = t.creds, tc = target.creds;
  return tc.uid === c.euid || tc.euid === c.euid || c.hasCapability(CAP_SYS_NICE);
}

function sysSetpriority(t: Task, a: SyscallArgs): number {
  const which = a.int(0);
  const who = a.int(1);
  const nice = Math.min(MAX_NICE, Math.max(MIN_NICE, a.int(2)));
  if (which < PRIO_PROCESS || which > PRIO_USER) fail(EINVAL);
  let error = ESRCH;
  for (const p of targets(t, which, who)) {
    const attrs = taskAttrs(p);
    if (!mayReprioritize(t, p)) {
      error = EPERM;
    } else if (nice < attrs.nice && !canNice(t, p, nice)) {
      error = EACCES;
    } else {
      if (error === ESRCH) error = 0;
      attrs.nice = nice;
    }
  }
  if (error !== 0) fail(error);
  return 0;
}

/** The highest priority named, as 20 - nice (1..40), so that it is never negative. */
function sysGetpriority(t: Task, a: SyscallArgs): number {
  const which = a.int(0);
  if (which < PRIO_PROCESS || which > PRIO_USER) fail(EINVAL);
  let best = -1;
  for (const p of targets(t, which, a.int(1))) best = Math.max(best, 20 - taskAttrs(p).nice);
  if (best < 0) fail(ESRCH);
  return best;
}

/** ioprio_check_cap: the class must be known, RT needs CAP_SYS_NICE or CAP_SYS_ADMIN, NONE
 *  takes no level. */
export function checkIoprio(t: Task, ioprio: number): void {
  const cls = (ioprio >> IOPRIO_CLASS_SHIFT) & 7;
  const level = ioprio & IOPRIO_LEVEL_MASK;
  switch (cls) {
    case IOPRIO_CLASS_RT:
      if (!t.creds.hasCapability(CAP_SYS_NICE) && !t.creds.hasCapability(CAP_SYS_ADMIN)) fail(EPERM);
      break;
    case IOPRIO_CLASS_BE:
    case IOPRIO_CLASS_IDLE:
      break;
    case IOPRIO_CLASS_NONE:
      if (level !== 0) fail(EINVAL);
      break;
    default:
      fail(EINVAL);
  }
}

function sysIoprioSet(t: Task, a: SyscallArgs): number {
  const which = a.int(0) - 1;
  const who = a.int(1);
  const ioprio = a.int(2);
  checkIoprio(t, ioprio);
  if (which < PRIO_PROCESS || which > PRIO_USER) fail(EINVAL);
  let error = ESRCH;
  for (const p of targets(t, which, who)) {
    const tc = p.creds;
    // set_task_ioprio: the target's real uid is ours (real or effective), or CAP_SYS_NICE.
    if (tc.uid !== t.creds.euid && tc.uid !== t.creds.uid && !t.creds.hasCapability(CAP_SYS_NICE)) {
      error = EPERM;
      continue;
    }
    taskAttrs(p).ioprio = ioprio;
    error = 0;
  }
  if (error !== 0) fail(error);
  return 0;
}

/** One task's ioprio; a group's is the best of its members', those never set counting as
 *  best-effort at the level their nice gives (ioprio_best). */
function sysIoprioGet(t: Task, a: SyscallArgs): number {
  const which = a.int(0) - 1;
  if (which < PRIO_PROCESS || which > PRIO_USER) fail(EINVAL);
  const tasks = targets(t, which, a.int(1));
  if (tasks.length === 0) fail(ESRCH);
  if (which === PRIO_PROCESS) return taskAttrs(tasks[0]).ioprio;
  let best = Infinity;
  for (const p of tasks) {
    const attrs = taskAttrs(p);
    const v = (attrs.ioprio >> IOPRIO_CLASS_SHIFT) === IOPRIO_CLASS_NONE
      ? (IOPRIO_CLASS_BE << IOPRIO_CLASS_SHIFT) | Math.trunc((attrs.nice + 20) / 5) : attrs.ioprio;
    best = Math.min(best, v);
  }
  return best;
}

export function registerPriority(table: SyscallTable): void {
  table[SYS_getpriority] = { name: 'getpriority', handler: sysGetpriority, args: ['int', 'int'] };
  table[SYS_setpriority] = { name: 'setpriority', handler: sysSetpriority, args: ['int', 'int', 'int'] };
  table[SYS_ioprio_set] = { name: 'ioprio_set', handler: sysIoprioSet, args: ['int', 'int', 'hex'] };
  table[SYS_ioprio_get] = { name: 'ioprio_get', handler: sysIoprioGet, args: ['int', 'int'] };
}
