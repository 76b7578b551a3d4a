// ptrace-stops (Linux kernel/signal.c ptrace_stop, ptrace_do_notify, do_jobctl_trap, the
// ptrace_signal part of get_signal): a tracee parks in TASK_TRACED, its tracer hears of it
// through wait(2) and SIGCHLD, and only the tracer (or death) resumes it. This file owns the
// stop itself and the traced half of "return to user mode": the signal-delivery-stop, the
// group-stop report, and the PTRACE_EVENT_STOP trap. Syscall and event stops call stopTracee
// from syscall_stop.ts and events.ts.

import { tgidIn, tidIn } from '../ns/pid_ns';
import { SA_NOCLDSTOP, SIGCHLD, SIGTRAP, SIG_IGN, sigBit } from '../../abi/linux/signal';
import { signalActions } from '../../syscalls/linux/signal_state';
import type { Task } from '../task';
import { sigInfo, type SigInfo } from '../sig_pending';
import { sendSignalToProcess, SI_USER } from '../signals';
import { deliverSignals } from '../signal_deliver';
import { taskMustStop } from '../job_control';
import { PTRACE_EVENT_STOP, type PtraceLink, type StopKind } from './link';

export const CLD_TRAPPED = 4, CLD_STOPPED = 5;

/** do_notify_parent_cldstop(for_ptrace): SIGCHLD to the tracer unless it ignores it or set
 *  SA_NOCLDSTOP; its waiters wake either way. */
function notifyTracer(t: Task, l: PtraceLink, why: number, status: number): void {
  const tracer = l.tracer.tg;
  if (tracer.zombie || tracer.reaped) return;
  const act = signalActions(tracer)[SIGCHLD];
  if (act.handler !== SIG_IGN && (Number(act.flags) & SA_NOCLDSTOP) === 0) {
    sendSignalToProcess(tracer, sigInfo(SIGCHLD, why, { pid: tidIn(tracer.leaderPid.ns, t), uid: t.creds.uid, status: status & 0x7f }));
  }
  tracer.notifyChildWaiters();
}

/** The siginfo of a trap the tracee reports itself (ptrace_do_notify). */
export function trapInfo(t: Task, exitCode: number): SigInfo {
  return sigInfo(exitCode & 0x7f, exitCode, { pid: t.tid, uid: t.creds.uid });
}

/** ptrace_stop: park t until its tracer resumes it, it is detached, or it dies. exitCode is
 *  what wait reports as (status >> 8): a signal, SIGTRAP|0x80, or SIGTRAP|event<<8. */
export function stopTracee(t: Task, kind: StopKind, exitCode: number, info: SigInfo | null,
  why = CLD_TRAPPED): Promise<void> {
  const l = t.ptrace;
  if (l === null || (t.exited && kind !== 'exit')) return Promise.resolve();
  l.stopped = true;
  l.listening = false;
  l.stopKind = kind;
  l.report = ((exitCode << 8) | 0x7f) >>> 0;
  l.siginfo = info;
  l.resumeSig = 0;
  const done = new Promise<void>((resolve) => {
    const wake = (): void => {
      if (l.wake !== wake) return;
      l.wake = null;
      l.stopped = false;
      l.listening = false;
      l.report = null;
      if (t.waitCancel === wake) {
        t.waitCancel = null;
        t.waitKillableOnly = false;
      }
      resolve();
    };
    l.wake = wake;
    // TASK_TRACED gives way to nothing but the tracer and SIGKILL.
    t.waitCancel = wake;
    t.waitKillableOnly = true;
  });
  notifyTracer(t, l, why, exitCode);
  return done;
}

/** ptrace_resume and friends: end the stop the tracee is in. */
export function resumeTracee(t: Task, sig: number): void {
  const l = t.ptrace;
  if (l === null) return;
  l.resumeSig = sig;
  l.wake?.();
}

/** SIGCONT reached a stopped group: a seized tracee re-traps to tell its tracer
 *  (ptrace_trap_notify); one resting in PTRACE_LISTEN does so at once. */
export function ptraceGroupContinued(t: Task): void {
  const l = t.ptrace;
  if (l === null || !l.seized) return;
  l.trapPending = true;
  if (l.listening) l.wake?.();
}

function hasWork(t: Task): boolean {
  const l = t.ptrace;
  return t.syscallRestart !== 0 || ((t.pending.set | t.tg.pending.set) & ~t.sigMask) !== 0n ||
    (l !== null && (l.inject !== null || l.trapPending)) || taskMustStop(t);
}

/** The traced form of task_run's signal step: returns once the task may run user code, or
 *  once it is detached (the untraced path takes over) or dead. */
export async function ptraceReturnToUser(t: Task, afterSyscall: boolean): Promise<void> {
  let restartKnown = afterSyscall;
  for (;;) {
    const l = t.ptrace;
    if (t.exited || l === null || !hasWork(t)) return;
    const js = t.tg.jobStop;
    if (taskMustStop(t) && js) {
      // Group-stop: reported to the tracer rather than the parent; the tracer's resume
      // lets the task run through the rest of the stop.
      l.groupStopSeen = js.seq;
      l.trapPending = false;
      const code = l.seized ? js.stopSig | (PTRACE_EVENT_STOP << 8) : js.stopSig;
      await stopTracee(t, l.seized ? 'event' : 'group', code, l.seized ? trapInfo(t, code) : null, CLD_STOPPED);
      continue;
    }
    if (l.trapPending) {
      l.trapPending = false;
      const code = (js?.stopped === true ? js.stopSig : SIGTRAP) | (PTRACE_EVENT_STOP << 8);
      if (l.seized) await stopTracee(t, 'event', code, trapInfo(t, code), CLD_STOPPED);
      continue;
    }
    deliverSignals(t, restartKnown);
    restartKnown = true;
    const info = l.signalStop;
    if (info === null) {
      if (!taskMustStop(t) && !l.trapPending) return;
      continue;
    }
    l.signalStop = null;
    await stopTracee(t, 'signal', info.signo, info);
    if (t.exited) return;
    injectAfterStop(t, l, info);
  }
}

/** What the tracer resumed a signal-delivery-stop with: nothing (suppressed), the signal, or
 *  another one, with the siginfo SETSIGINFO may have changed. A signal now blocked goes back
 *  to the queue (ptrace_signal). */
function injectAfterStop(t: Task, l: PtraceLink, original: SigInfo): void {
  const sig = l.resumeSig;
  l.resumeSig = 0;
  if (sig === 0) return;
  let info = l.siginfo ?? original;
  if (info.signo !== sig) {
    info = sigInfo(sig, SI_USER, { pid: tgidIn(t.threadPid.ns, l.tracer.tg), uid: l.tracer.creds.uid });
  }
  if ((t.sigMask & sigBit(sig)) !== 0n || t.ptrace === null) t.pending.enqueue(info);
  else t.ptrace.inject = info;
}
