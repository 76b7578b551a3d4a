// Job control stops (Linux kernel/signal.c do_signal_stop, the SIGCONT half of
// prepare_signal, do_notify_parent_cldstop): a stop signal's default action stops every
// thread of the process until SIGCONT or SIGKILL; the parent hears of each change through
// SIGCHLD (CLD_STOPPED / CLD_CONTINUED, unless SA_NOCLDSTOP) and wait(2)'s
// WUNTRACED/WCONTINUED reports. A stopped thread parks in its run loop: it awaits a promise,
// so it neither spins nor runs application code.

import { tgidIn } from './ns/pid_ns';
import { SA_NOCLDSTOP, SIGCHLD, SIGCONT, SIG_IGN } from '../abi/linux/signal';
import { signalActions } from '../syscalls/linux/signal_state';
import type { Task } from './task';
import type { ThreadGroup } from './thread_group';
import { sigInfo } from './sig_pending';
// signals.ts imports this module too; both only call each other at run time.
import { SI_KERNEL, sendSignalToProcess } from './signals';
import { SIGHUP } from '../abi/linux/signal';
import { isPgrpOrphaned, markAdoptedByInit, processGroupIds } from '../syscalls/linux/process_group';
import { controllingTtyOf, disassociateCtty } from './job_control_tty';
import type { Kernel } from './kernel';
import { ptraceGroupContinued } from './ptrace/stop';

export const CLD_STOPPED = 5, CLD_CONTINUED = 6;

export interface JobStopState {
  /** The group stop is in effect (SIGNAL_STOP_STOPPED): threads park. */
  stopped: boolean;
  /** The signal that stopped the group (group_exit_code). */
  stopSig: number;
  /** What the parent's wait has not yet been told: one report per stop or continue. */
  report: 'stopped' | 'continued' | null;
  /** Parked threads' wake-ups. */
  readonly parked: Set<() => void>;
  /** Counts group stops, so that a tracee resumed by its tracer runs through this one. */
  seq: number;
}

function state(tg: ThreadGroup): JobStopState {
  tg.jobStop ??= { stopped: false, stopSig: 0, report: null, parked: new Set(), seq: 0 };
  return tg.jobStop;
}

/** Whether the group stop is in effect: threads must park before running user code. */
export function groupStopped(tg: ThreadGroup): boolean {
  return tg.jobStop?.stopped === true;
}

/** Whether t must stop for its group's stop: not if its tracer resumed it from this one. */
export function taskMustStop(t: Task): boolean {
  const s = t.tg.jobStop;
  if (s?.stopped !== true) return false;
  return t.ptrace === null || t.ptrace.groupStopSeen !== s.seq;
}

/** do_signal_stop: t took a stop signal whose action is the default. The other threads are
 *  made to look (their waits end and restart after the stop), and the parent is told. */
export function doSignalStop(t: Task, sig: number): void {
  const tg = t.tg;
  const s = state(tg);
  if (s.stopped) return;
  s.stopped = true;
  s.seq++;
  s.stopSig = sig;
  s.report = 'stopped';
  for (const other of tg.tasks) if (other !== t && !other.exited) other.kick();
  notifyParentCldStop(tg, CLD_STOPPED, sig);
}

/** SIGCONT was sent: a stopped group resumes (even if SIGCONT is blocked or ignored). */
export function continueGroup(tg: ThreadGroup): void {
  const s = tg.jobStop;
  if (!s?.stopped) return;
  s.stopped = false;
  s.report = 'continued';
  for (const wake of [...s.parked]) wake();
  for (const t of tg.tasks) if (t.ptrace !== null) ptraceGroupContinued(t);
  notifyParentCldStop(tg, CLD_CONTINUED, SIGCONT);
}

/** Park t until the group stop ends or t dies; only death cuts it short (a stopped task
 *  is TASK_STOPPED: other signals stay pending). */
export function parkStopped(t: Task): Promise<void> {
  const s = state(t.tg);
  return new Promise<void>((resolve) => {
    const wake = (): void => {
      s.parked.delete(wake);
      if (t.waitCancel === wake) {
        t.waitCancel = null;
        t.waitKillableOnly = false;
      }
      resolve();
    };
    s.parked.add(wake);
    t.waitCancel = wake;
    t.waitKillableOnly = true;
  });
}

/** The report a waiting parent may take now (wait_task_stopped / wait_task_continued), as a
 *  wait status word; consumed unless `peek` (WNOWAIT). */
export function takeStopReport(child: ThreadGroup, stopped: boolean, continued: boolean,
  peek: boolean): number | null {
  const s = child.jobStop;
  if (!s || s.report === null) return null;
  let status: number;
  if (s.report === 'stopped' && stopped && s.stopped) status = (s.stopSig << 8) | 0x7f;
  else if (s.report === 'continued' && continued) status = 0xffff;
  else return null;
  if (!peek) s.report = null;
  return status;
}

/** A stopped (0x7f) or continued (0xffff) status word as waitid's si_code and si_status;
 *  null for an exit status. */
export function stopStatusInfo(status: number): { code: number; status: number } | null {
  if (status === 0xffff) return { code: CLD_CONTINUED, status: SIGCONT };
  if ((status & 0xff) === 0x7f) return { code: CLD_STOPPED, status: (status >> 8) & 0xff };
  return null;
}

/** do_notify_parent_cldstop: SIGCHLD unless the parent ignores it or set SA_NOCLDSTOP;
 *  its waiters wake either way. */
function notifyParentCldStop(tg: ThreadGroup, code: number, status: number): void {
  const parent = tg.parent;
  if (!parent || parent.zombie || parent.reaped) return;
  const act = signalActions(parent)[SIGCHLD];
  if (act.handler !== SIG_IGN && (Number(act.flags) & SA_NOCLDSTOP) === 0) {
    const leader = [...tg.tasks][0];
    const uid = leader ? leader.creds.uid : tg.exitUid;
    sendSignalToProcess(parent, sigInfo(SIGCHLD, code, { pid: tgidIn(parent.leaderPid.ns, tg), uid, status }));
  }
  parent.notifyChildWaiters();
}


/** has_stopped_jobs: some live process of group pgid is stopped. */
function hasStoppedJobs(k: Kernel, pgid: number): boolean {
  for (const tg of k.threadGroups.values()) {
    if (!tg.zombie && processGroupIds(tg).pgid === pgid && groupStopped(tg)) return true;
  }
  return false;
}

/** kill_orphaned_pgrp: a group this exit leaves orphaned, with stopped jobs nobody could
 *  continue now, gets SIGHUP and SIGCONT (POSIX). */
function killOrphanedPgrp(k: Kernel, member: ThreadGroup): void {
  const pgid = processGroupIds(member).pgid;
  if (!isPgrpOrphaned(k, member) || !hasStoppedJobs(k, pgid)) return;
  for (const tg of [...k.threadGroups.values()]) {
    if (tg.zombie || processGroupIds(tg).pgid !== pgid) continue;
    sendSignalToProcess(tg, sigInfo(SIGHUP, SI_KERNEL));
    sendSignalToProcess(tg, sigInfo(SIGCONT, SI_KERNEL));
  }
}

/** exit_notify's job-control part, once tg is a zombie and its children have a new parent:
 *  a session leader's terminal is hung up; groups its exit orphans are told. */
export function jobControlExit(k: Kernel, tg: ThreadGroup, formerChildren: ThreadGroup[]): void {
  const ids = processGroupIds(tg);
  const tty = controllingTtyOf(tg);
  if (tty && ids.sid === tg.tgid) disassociateCtty(k, tty, true);
  // Its own group, if its parent was what kept it attached (another group, same session).
  const parent = tg.parent;
  if (parent) {
    const p = processGroupIds(parent);
    if (p.pgid !== ids.pgid && p.sid === ids.sid) killOrphanedPgrp(k, tg);
  }
  // Its children's groups, where it was the link.
  for (const child of formerChildren) if (child.parent?.tgid === 1) markAdoptedByInit(child);
  for (const child of formerChildren) {
    const c = processGroupIds(child);
    if (!child.zombie && c.pgid !== ids.pgid && c.sid === ids.sid) killOrphanedPgrp(k, child);
  }
}
