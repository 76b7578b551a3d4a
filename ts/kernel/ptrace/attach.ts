// Making and ending the tracer/tracee relation (Linux ptrace_traceme, ptrace_attach,
// ptrace_detach, __ptrace_unlink, exit_ptrace): who may trace whom, what the tracee is told,
// and what happens when either side exits. The tracer is the thread that attached (only it
// may issue requests); every thread of its process may wait for the tracees.

import { tidIn } from '../ns/pid_ns';
import { EIO, EPERM } from '../../abi/linux/errno';
import { SIGCHLD, SIGKILL, SIGSTOP } from '../../abi/linux/signal';
import { fail } from '../syscall_error';
import type { Task } from '../task';
import { sigInfo } from '../sig_pending';
import { sendSignalToProcess, sendSignalToThread, SI_KERNEL } from '../signals';
import { groupStopped } from '../job_control';
import { childStatusInfo } from '../exit';
import { ptraceMayAttach } from '../ptrace_access';
import {
  PtraceLink, PTRACE_O_EXITKILL, PTRACE_O_MASK, holdZombie, releaseZombie, tracerState, tracerStateIfAny,
} from './link';
import { resumeTracee } from './stop';

/** __ptrace_link, with the caller's credentials as the tracing's warrant. */
function link(caller: Task, tracer: Task, tracee: Task, seized: boolean, options: number): PtraceLink {
  const l = new PtraceLink(tracer, seized, caller.creds);
  l.options = options;
  tracee.ptrace = l;
  tracerState(tracer).tracees.add(tracee);
  return l;
}

/** PTRACE_TRACEME: the parent becomes the tracer (yama allows it at every scope but 3). */
export function ptraceTraceme(t: Task): number {
  if (t.ptrace !== null) fail(EPERM);
  // The tracer is the thread that made this process (real_parent), unless it is exiting.
  const tracer = t.tg.parentTask;
  if (!tracer || tracer.exited) fail(EPERM);
  // Landlock's ptrace_traceme: a parent outside the child's domain may not trace it.
  const dom = tracer.creds.landlock;
  if (dom !== null && !dom.scopes(t.creds.landlock)) fail(EPERM);
  link(t, tracer, t, false, 0);
  return 0;
}

/** PTRACE_ATTACH / PTRACE_SEIZE of target by t. */
export function ptraceAttach(t: Task, target: Task, seize: boolean, addr: bigint, flags: bigint): number {
  let options = 0;
  if (seize) {
    if (addr !== 0n) fail(EIO);
    // EIO here where SETOPTIONS says EINVAL: the two have always differed.
    if ((flags & ~BigInt(PTRACE_O_MASK)) !== 0n) fail(EIO);
    options = Number(flags);
  }
  // A kernel thread, our own process, an exiting task, one already traced.
  if (target.tg === t.tg) fail(EPERM);
  if (!ptraceMayAttach(t, target)) fail(EPERM);
  if (target.exited || target.tg.exitStatus !== null) fail(EPERM);
  if (target.ptrace !== null) fail(EPERM);
  link(t, t, target, seize, options);
  if (!seize) sendSignalToThread(target, sigInfo(SIGSTOP, SI_KERNEL));
  // A task already in group-stop re-traps into a ptrace-stop (JOBCTL_TRAP_STOP): wake it
  // from its park so that its run loop takes the traced path.
  if (groupStopped(target.tg) && target.waitCancel !== null && target.waitKillableOnly) target.waitCancel();
  return 0;
}

/** __ptrace_unlink: the tracee goes back to being its own; a stop it was in ends. */
function unlink(tracee: Task): void {
  const l = tracee.ptrace;
  if (l === null) return;
  tracerStateIfAny(l.tracer)?.tracees.delete(tracee);
  tracee.ptrace = null;
  l.pendingEvents.length = 0;
  if (l.inject !== null) tracee.pending.enqueue(l.inject);
  if (l.signalStop !== null) tracee.pending.enqueue(l.signalStop);
  l.inject = l.signalStop = null;
}

/** PTRACE_DETACH: resume with sig (delivered as if newly sent), the tracee is untraced. */
export function ptraceDetach(tracee: Task, sig: number): void {
  const l = tracee.ptrace;
  if (l === null) return;
  const wasStopped = l.stopped || l.listening;
  unlink(tracee);
  if (sig !== 0 && wasStopped && l.stopKind === 'signal') tracee.pending.enqueue(sigInfo(sig, SI_KERNEL));
  l.resumeSig = 0;
  l.wake?.();
}

/** exit_ptrace: a tracer thread is gone; its tracees are detached, or killed (EXITKILL). */
export function ptraceTracerExit(t: Task): void {
  const s = tracerStateIfAny(t);
  if (!s) return;
  for (const tracee of [...s.tracees]) {
    const l = tracee.ptrace;
    if (l === null) continue;
    if ((l.options & PTRACE_O_EXITKILL) !== 0) {
      sendSignalToProcess(tracee.tg, sigInfo(SIGKILL, SI_KERNEL));
      unlink(tracee);
      l.wake?.();
    } else {
      ptraceDetach(tracee, 0);
    }
  }
  for (const e of s.exits.splice(0)) releaseZombie(e.task.tg);
}

/** A tracee thread is gone: the tracer learns of its death through wait unless the normal
 *  child report reaches it (it is the real parent and this is the process's last thread). */
export function ptraceTraceeExit(t: Task): void {
  const l = t.ptrace;
  if (l === null) return;
  unlink(t);
  const tracer = l.tracer;
  if (tracer.exited || tracer.tg.zombie) return;
  const last = [...t.tg.tasks].every((o) => o === t || o.exited);
  if (last && t.tg.parent === tracer.tg) {
    t.tg.tracedByParentAtExit = true;
    return;
  }
  if (last) holdZombie(t.tg);
  const status = t.tg.exitStatus ?? ((t.exitCode & 0xff) << 8);
  tracerState(tracer).exits.push({ task: t, status });
  const info = childStatusInfo(status);
  sendSignalToProcess(tracer.tg, sigInfo(SIGCHLD, info.code, { pid: tidIn(tracer.threadPid.ns, t), uid: t.creds.uid, status: info.status }));
  tracer.tg.notifyChildWaiters();
}

/** PTRACE_KILL: SIGKILL, whether or not the tracee is stopped. */
export function ptraceKill(tracee: Task): void {
  sendSignalToThread(tracee, sigInfo(SIGKILL, SI_KERNEL));
  if (tracee.exited) resumeTracee(tracee, 0);
}
