// The end of tasks and processes (Linux kernel/exit.c): a thread's last rites
// (clear_child_tid, vfork release, its context and shares), then, when the last thread of a
// process is gone, the process's: orphans go to init, the parent gets its exit signal, and
// the process stays a zombie until the parent reaps it (or is reaped at once when the
// parent ignores SIGCHLD or set SA_NOCLDWAIT).

import { SA_NOCLDWAIT, SIGCHLD, SIGKILL, SIG_IGN } from '../abi/linux/signal';
import { signalActions } from '../syscalls/linux/signal_state';
import { taskAttrs } from '../syscalls/linux/task_attrs';
import { acctProcess } from './acct';
import type { Kernel } from './kernel';
import type { Task } from './task';
import type { ThreadGroup } from './thread_group';
import { putFDTable, putMM } from './shared_state';
import { noteMmHiwater } from './rss';
import { chargeExitedIo } from './io_accounting';
import { sigInfo } from './sig_pending';
import { CLD_DUMPED, CLD_EXITED, CLD_KILLED, SI_KERNEL, sendSignalToProcess } from './signals';
import { futexWake } from './futex';
import { exitRobustList } from './robust_futex';
import { releaseRingSlots } from './io_uring/ring_slots';
import { exitPiStateList } from './pi_futex';
import { exitSem } from './ipc/undo';
import { jobControlExit } from './job_control';
import { ptraceTraceeExit, ptraceTracerExit } from './ptrace/attach';
import { zombieHeld } from './ptrace/link';
import { cgroupRelease } from './cgroup/cgroup';
import { processCpuNs } from './cgroup/controllers';
import { detachTask, detachThreadGroup, isNsInit, tgidIn, threadGroupsOf } from './ns/pid_ns';

/** futex_cleanup, on exit and exec: robust locks get OWNER_DIED, PI locks a new owner. */
export function futexExitRelease(t: Task): void {
  exitRobustList(t);
  exitPiStateList(t);
}

/** The tgid of the init process, which adopts orphans. */
const INIT_TGID = 1;

/** Called by a task's run loop once it has stopped for good. */
export function finishTask(t: Task): void {
  const k = t.kernel;
  const tg = t.tg;
  futexExitRelease(t);
  exitSem(t);
  if (t.clearChildTid !== 0) {
    // pthread_join waits on this word: zero it and wake the waiter (mm_release).
    try {
      t.mm.writeU32(t.clearChildTid, 0);
      futexWake(t, t.clearChildTid, 1, false);
    } catch { /* an unmapped address: nothing to tell */ }
    t.clearChildTid = 0;
  }
  releaseVfork(t);
  releaseRingSlots(t);
  ptraceTracerExit(t);
  ptraceTraceeExit(t);
  t.ctx.release();
  noteMmHiwater(tg, t.mm);
  chargeExitedIo(t);
  putMM(t.mm);
  putFDTable(t.fdTable);
  if (k.tasks.get(t.tid) === t) k.tasks.delete(t.tid);
  detachTask(t);
  if (t.detached) return;
  tg.tasks.delete(t);
  if (tg.tasks.size > 0) {
    forgetOriginalParent(t);
    return;
  }
  tg.lastExited = t;
  if (tg.exitStatus === null) tg.exitStatus = (t.exitCode & 0xff) << 8;
  tg.exitUid = t.creds.uid;
  acctProcess(t, tg.exitStatus);
  exitThreadGroup(k, tg);
}

/** find_alive_thread: a thread of tg that is not exiting (any left if all are). */
function aliveThread(tg: ThreadGroup): Task | null {
  let any: Task | null = null;
  for (const o of tg.tasks) {
    if (!o.exited) return o;
    any ??= o;
  }
  return any;
}

/** Each thread of the child that asked for one gets its parent-death signal. */
function sendParentDeathSignal(child: ThreadGroup): void {
  for (const ct of child.tasks) {
    const sig = taskAttrs(ct).pdeathsig;
    if (sig !== 0) sendSignalToProcess(child, sigInfo(sig, SI_KERNEL));
  }
}

/** forget_original_parent for a thread that is gone while its process lives on (it exited,
 *  or another thread's execve ended it): the children it made pass to a thread still
 *  there, and hear of it through their parent-death signal, as in Linux. */
export function forgetOriginalParent(dying: Task): void {
  const tg = dying.tg;
  const heir = aliveThread(tg);
  for (const child of tg.children) {
    if (child.parentTask !== dying) continue;
    child.parentTask = heir;
    sendParentDeathSignal(child);
  }
}

/** find_new_reaper: the nearest live ancestor in the same pid namespace that is a child
 *  subreaper, else the namespace's init (none if init itself is the one exiting). */
function findNewReaper(k: Kernel, tg: ThreadGroup): ThreadGroup | null {
  const ns = tg.leaderPid.ns;
  for (let a = tg.parent; a !== null && a.leaderPid.ns === ns; a = a.parent) {
    if (a.childSubreaper && !a.zombie) return a;
  }
  const init = ns.level === 0 ? k.threadGroups.get(INIT_TGID) : ns.init;
  return init && init !== tg && !init.zombie ? init : null;
}

/** A vfork child that exits or execs lets its parent go on. */
export function releaseVfork(t: Task): void {
  const done = t.vforkDone;
  t.vforkDone = null;
  done?.();
}

function exitThreadGroup(k: Kernel, tg: ThreadGroup): void {
  tg.zombie = true;
  const heir = findNewReaper(k, tg);
  const formerChildren = [...tg.children];
  for (const child of formerChildren) {
    tg.children.delete(child);
    child.parent = heir;
    child.parentTask = heir ? aliveThread(heir) : null;
    sendParentDeathSignal(child);
    if (heir) {
      heir.children.add(child);
      child.exitSignal = SIGCHLD;
      if (child.zombie) notifyParent(k, child);
    } else if (child.zombie) {
      reap(k, child);
    }
  }
  jobControlExit(k, tg, formerChildren);
  const done = (): void => {
    // A traced zombie is its tracer's to report first (ptrace/link.ts).
    if (!zombieHeld(tg, () => notifyParent(k, tg))) notifyParent(k, tg);
    tg.markExited();
  };
  if ((tg.tgid === INIT_TGID || isNsInit(tg)) && zapPidNs(k, tg, done)) return;
  done();
}

/** zap_pid_ns_processes: the namespace dies with its init, which is reported (`done`) only
 *  once every other process numbered in it is gone (reaped), as Linux's init waits for them;
 *  true if that is later. No process can be made in it any more. */
function zapPidNs(k: Kernel, init: ThreadGroup, done: () => void): boolean {
  const ns = init.leaderPid.ns;
  ns.closed = ns.level > 0;
  const members = threadGroupsOf(k, ns);
  for (const other of [...members.values()]) if (other !== init && !other.zombie) k.killThreadGroup(other, SIGKILL);
  if (ns.level === 0 || members.size <= 1) return false;
  ns.onEmpty = done;
  return true;
}

/** wait status -> (si_code, si_status) of the SIGCHLD / waitid report. */
export function childStatusInfo(status: number): { code: number; status: number } {
  if ((status & 0x7f) === 0) return { code: CLD_EXITED, status: (status >> 8) & 0xff };
  return { code: (status & 0x80) !== 0 ? CLD_DUMPED : CLD_KILLED, status: status & 0x7f };
}

/** do_notify_parent: the exit signal, auto-reaping, and waking the parent's waiters. */
function notifyParent(k: Kernel, tg: ThreadGroup): void {
  const parent = tg.parent;
  if (!parent || parent.zombie || parent.reaped) {
    reap(k, tg);
    return;
  }
  let sig = tg.exitSignal;
  let autoreap = false;
  if (sig === SIGCHLD) {
    const act = signalActions(parent)[SIGCHLD];
    if (act.handler === SIG_IGN) {
      autoreap = true;
      sig = 0;
    } else if ((Number(act.flags) & SA_NOCLDWAIT) !== 0) {
      autoreap = true;
    }
  }
  if (sig > 0) {
    const s = childStatusInfo(tg.exitStatus ?? 0);
    // The child as the parent's namespace numbers it (do_notify_parent's task_pid_nr_ns).
    const pid = tgidIn(parent.leaderPid.ns, tg);
    sendSignalToProcess(parent, sigInfo(sig, s.code, { pid, uid: tg.exitUid, status: s.status }));
  }
  if (autoreap) reap(k, tg);
  parent.notifyChildWaiters();
}

/** The pid is free: the zombie is gone (release_task). */
export function reap(k: Kernel, tg: ThreadGroup): void {
  tg.zombie = false;
  tg.reaped = true;
  cgroupRelease(k, tg, processCpuNs(tg));
  if (k.threadGroups.get(tg.tgid) === tg) k.threadGroups.delete(tg.tgid);
  tg.parent?.children.delete(tg);
  detachThreadGroup(tg);
}
