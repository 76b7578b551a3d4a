// Sending signals (Linux kernel/signal.c: __send_signal, complete_signal, signal_wake_up).
// A signal goes to a thread's or its process's pending set; a thread that does not block it
// is chosen and made to notice (its wait cut short, or its user-mode run interrupted); a
// fatal default action ends the process at once, as complete_signal does. Taking a pending
// signal and acting on it happens when the thread returns to user mode (signal_deliver.ts).
// A stopped process wants no signal but SIGKILL (wants_signal): a fatal one stays pending
// until SIGCONT resumes it, then ends it.

import { coreDumpDue } from './coredump/core_pattern';
import { fromKuid } from './ns/user_namespace';
import { isNsInit, tgidIn } from './ns/pid_ns';
import {
  SIGCHLD, SIGCONT, SIGKILL, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGWINCH, SIG_DFL, SIG_IGN,
  sigBit,
} from '../abi/linux/signal';
import { signalActions } from '../syscalls/linux/signal_state';
import type { Task } from './task';
import type { ThreadGroup } from './thread_group';
import { sigInfo, type SigInfo } from './sig_pending';
import { notifySignalfd } from './signalfd_wait';
import { continueGroup, groupStopped, taskMustStop } from './job_control';

export type DefaultAction = 'term' | 'core' | 'ignore' | 'stop' | 'cont';

const CORE = new Set([3, 4, 5, 6, 7, 8, 11, 24, 25, 31]);
const STOP_SIGNALS = sigBit(SIGSTOP) | sigBit(SIGTSTP) | sigBit(SIGTTIN) | sigBit(SIGTTOU);

/** signal(7)'s table. */
export function defaultAction(sig: number): DefaultAction {
  if (CORE.has(sig)) return 'core';
  if (sig === SIGCHLD || sig === SIGURG || sig === SIGWINCH) return 'ignore';
  if (sig === SIGCONT) return 'cont';
  if ((STOP_SIGNALS & sigBit(sig)) !== 0n) return 'stop';
  return 'term';
}

// si_code values (include/uapi/asm-generic/siginfo.h).
export const SI_USER = 0, SI_KERNEL = 0x80, SI_QUEUE = -1, SI_TKILL = -6;
export const CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3;

/** siginfo for kill/tgkill from task `from` to process `to`. */
export function userSigInfo(from: Task, sig: number, code = SI_USER, to?: ThreadGroup): SigInfo {
  // si_uid as the sender's user namespace names it (the target's, when they share one); si_pid
  // as the sender's pid namespace does, or 0 when the sender is outside the target's
  // (__send_signal_locked).
  const outside = to !== undefined && tgidIn(to.leaderPid.ns, from.tg) === 0;
  const info = sigInfo(sig, code, { pid: outside ? 0 : tgidIn(from.threadPid.ns, from.tg), uid: fromKuid(from.creds.userNs, from.creds.uid) });
  if (outside) info.fromAncestorNs = true;
  return info;
}

/** Whether t has a signal it would act on now (what makes a wait give way). */
export function signalPending(t: Task): boolean {
  if (t.exited || taskMustStop(t) || t.ptrace?.trapPending === true) return true;
  return (t.pending.set & ~t.sigMask) !== 0n || groupSignalsFor(t) !== 0n;
}

/** The process's pending signals that t may take now: those it does not block, less those
 *  complete_signal chose another thread for while that thread can still take them. Linux
 *  wakes only the chosen thread (TIF_SIGPENDING is per thread), so the others, the sender
 *  among them, leave the signal alone: a thread that kill()s its own process does not run the
 *  handler itself when the main thread will (Python runs handlers on its main thread only). */
export function groupSignalsFor(t: Task): bigint {
  const tg = t.tg;
  let set = tg.pending.set & ~t.sigMask;
  if (set === 0n || tg.signalTargets.size === 0) return set;
  for (const [sig, target] of tg.signalTargets) {
    const bit = sigBit(sig);
    if (target !== t && (set & bit) !== 0n && !target.exited && !blocks(target, sig)) set &= ~bit;
  }
  return set;
}

/** Linux sig_ignored: dropped at once, unless blocked (it may be unblocked or waited for). */
function ignoredNow(tg: ThreadGroup, info: SigInfo, blocked: boolean, traced: boolean): boolean {
  const sig = info.signo;
  // A tracer hears of every signal, ignored or not (sig_ignored's ptrace test).
  if (blocked || traced) return false;
  if (unkillableDrops(tg, info)) return true;
  const h = signalActions(tg)[sig].handler;
  if (h === SIG_IGN) return true;
  if (h !== SIG_DFL) return false;
  // sig_kernel_ignore: a default stop is acted on when taken (it may find the process
  // group orphaned then); SIGCONT has done its work in prepare().
  const d = defaultAction(sig);
  return d === 'ignore' || d === 'cont';
}

/** sig_task_ignored's SIGNAL_UNKILLABLE rule: a pid namespace's init takes from its own
 *  namespace only the signals it has a handler for; SIGKILL and SIGSTOP from an ancestor
 *  namespace still reach it. Kernel-made signals (a positive si_code: faults, SIGCHLD) are
 *  not subject to it. */
function unkillableDrops(tg: ThreadGroup, info: SigInfo): boolean {
  if (info.code > 0 || !isNsInit(tg)) return false;
  if (signalActions(tg)[info.signo].handler !== SIG_DFL) return false;
  return !(info.fromAncestorNs === true && (info.signo === SIGKILL || info.signo === SIGSTOP));
}

function blocks(t: Task, sig: number): boolean {
  return (t.sigMask & sigBit(sig)) !== 0n;
}

/** sig_ignored's first test: a signal blocked now, or before an rt_sigtimedwait unblocked it
 *  to wait for it (real_blocked), is never dropped as ignored: the waiter takes it. */
function blocksOrAwaits(t: Task, sig: number): boolean {
  return blocks(t, sig) || (t.realBlocked !== null && (t.realBlocked & sigBit(sig)) !== 0n);
}

/** Whether sig, taken by `by`, would end the process without anything the process can do. */
function fatal(tg: ThreadGroup, by: Task, sig: number): boolean {
  if (sig === SIGKILL) return true;
  // A tracee reports the signal to its tracer first, who may suppress it.
  if (by.ptrace !== null) return false;
  if (signalActions(tg)[sig].handler !== SIG_DFL) return false;
  const d = defaultAction(sig);
  if (d !== 'term' && d !== 'core') return false;
  // complete_signal: a signal that dumps core is taken by a thread, which writes the core.
  if (d === 'core' && coreDumpDue(by)) return false;
  return by.realBlocked === null || (by.realBlocked & sigBit(sig)) === 0n;
}

/** SIGCONT resumes a stopped process and clears pending stops; a stop clears pending
 *  SIGCONT (prepare_signal). */
function prepare(tg: ThreadGroup, sig: number): void {
  if (sig === SIGCONT) continueGroup(tg);
  const clear = sig === SIGCONT ? STOP_SIGNALS : (STOP_SIGNALS & sigBit(sig)) !== 0n ? sigBit(SIGCONT) : 0n;
  if (clear === 0n) return;
  tg.pending.discard(clear);
  for (const t of tg.tasks) t.pending.discard(clear);
}

/** kill(2) and friends: a signal for the process; any thread not blocking it may take it. */
export function sendSignalToProcess(tg: ThreadGroup, info: SigInfo): void {
  const sig = info.signo;
  if (tg.zombie || tg.reaped || tg.exitStatus !== null) return;
  prepare(tg, sig);
  if (sig === SIGKILL) {
    if (!unkillableDrops(tg, info)) killProcess(tg, sig);
    return;
  }
  const leader = [...tg.tasks].find((t) => t.tid === tg.tgid) ?? tg.tasks.values().next().value;
  if (!leader) return;
  if (ignoredNow(tg, info, [...tg.tasks].every((t) => blocksOrAwaits(t, sig)), leader.ptrace !== null)) return;
  if (!tg.pending.enqueue(info)) return;
  notifySignalfd(tg);
  // complete_signal: the leader if it will take it, else any thread that will.
  let chosen: Task | undefined = !leader.exited && !blocks(leader, sig) ? leader : undefined;
  if (!chosen) for (const t of tg.tasks) if (!t.exited && !blocks(t, sig)) { chosen = t; break; }
  if (!chosen) return;
  tg.signalTargets.set(sig, chosen);
  if (fatal(tg, chosen, sig) && !groupStopped(tg)) killProcess(tg, sig);
  else chosen.kick();
}

/** tgkill(2), faults, SIGPIPE: a signal for one thread. */
export function sendSignalToThread(t: Task, info: SigInfo): void {
  const tg = t.tg;
  const sig = info.signo;
  if (t.exited || tg.exitStatus !== null) return;
  prepare(tg, sig);
  if (sig === SIGKILL) {
    if (!unkillableDrops(tg, info)) killProcess(tg, sig);
    return;
  }
  if (ignoredNow(tg, info, blocksOrAwaits(t, sig), t.ptrace !== null)) return;
  if (!t.pending.enqueue(info)) return;
  notifySignalfd(tg);
  if (blocks(t, sig)) return;
  if (fatal(tg, t, sig) && !groupStopped(tg)) killProcess(tg, sig);
  else t.kick();
}

function killProcess(tg: ThreadGroup, sig: number): void {
  const any = tg.tasks.values().next().value;
  if (any) any.kernel.killThreadGroup(tg, sig);
}
