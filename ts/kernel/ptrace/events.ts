// ptrace event stops (Linux ptrace_event, ptrace_event_pid, ptrace_init_task): fork, vfork
// and clone auto-attach the new task to the tracer and report PTRACE_EVENT_FORK/VFORK/CLONE
// with its pid; execve reports PTRACE_EVENT_EXEC (or, without the option, the legacy
// SIGTRAP); a dying task reports PTRACE_EVENT_EXIT. A syscall's events are taken just before
// its syscall-exit-stop (syscall_stop.ts), where Linux takes them too: inside the call, after
// its work is done.

import { SIGKILL, SIGSTOP, SIGTRAP, SIGCHLD } from '../../abi/linux/signal';
import type { Task } from '../task';
import { sigInfo } from '../sig_pending';
import { sendSignalToThread, SI_USER } from '../signals';
import {
  PtraceLink, tracerState, PTRACE_EVENT_CLONE, PTRACE_EVENT_EXEC, PTRACE_EVENT_EXIT,
  PTRACE_EVENT_FORK, PTRACE_EVENT_VFORK, PTRACE_EVENT_VFORK_DONE, PTRACE_O_TRACECLONE,
  PTRACE_O_TRACEEXEC, PTRACE_O_TRACEEXIT, PTRACE_O_TRACEFORK, PTRACE_O_TRACEVFORK,
  PTRACE_O_TRACEVFORKDONE,
} from './link';
import { stopTracee, trapInfo } from './stop';
import { vtid } from '../ns/pid_ns';

const CLONE_VFORK = 0x4000, CLONE_PTRACE = 0x2000, CLONE_UNTRACED = 0x80_0000, CLONE_THREAD = 0x1_0000;

/** Stop for the events the current syscall left, if any. */
export async function takePendingEvent(t: Task): Promise<void> {
  for (;;) {
    const l = t.ptrace;
    const next = l?.pendingEvents.shift();
    if (l === null || next === undefined || t.exited) return;
    l.eventMsg = next.msg;
    const code = SIGTRAP | (next.event << 8);
    await stopTracee(t, 'event', code, trapInfo(t, code));
  }
}

/** The event a clone with these flags and exit signal is, and whether the tracer wants it
 *  (kernel_clone's trace decision); 0 for none. */
function cloneEvent(l: PtraceLink, flags: number, exitSignal: number): number {
  if ((flags & CLONE_UNTRACED) !== 0) return 0;
  let event: number, option: number;
  if ((flags & CLONE_VFORK) !== 0) [event, option] = [PTRACE_EVENT_VFORK, PTRACE_O_TRACEVFORK];
  else if ((flags & CLONE_THREAD) === 0 && exitSignal === SIGCHLD) [event, option] = [PTRACE_EVENT_FORK, PTRACE_O_TRACEFORK];
  else [event, option] = [PTRACE_EVENT_CLONE, PTRACE_O_TRACECLONE];
  return (l.options & option) !== 0 ? event : 0;
}

/** clone.ts, once the child exists and before it runs: attach it to the parent's tracer
 *  if the parent's options (or CLONE_PTRACE) say so, and owe the parent its event stop. */
export function ptraceClone(parent: Task, child: Task, flags: number, exitSignal: number): void {
  const l = parent.ptrace;
  if (l === null) return;
  const event = cloneEvent(l, flags, exitSignal);
  const traced = event !== 0 || ((flags & CLONE_PTRACE) !== 0 && (flags & CLONE_UNTRACED) === 0);
  if (traced && !l.tracer.exited) {
    const cl = new PtraceLink(l.tracer, l.seized, l.ptracerCred);
    cl.options = l.options;
    child.ptrace = cl;
    tracerState(l.tracer).tracees.add(child);
    // ptrace_init_task: a seized child traps with PTRACE_EVENT_STOP, an attached one stops
    // with SIGSTOP, before it runs a single instruction.
    if (l.seized) cl.trapPending = true;
    else child.pending.enqueue(sigInfo(SIGSTOP, SI_USER));
  }
  // ptrace_event_pid: the new task as the tracer's namespace numbers it.
  if (event !== 0) l.pendingEvents.push({ event, msg: BigInt(vtid(l.tracer, child)) });
}

/** After a vfork child released its parent (PTRACE_O_TRACEVFORKDONE). */
export function ptraceVforkDone(parent: Task, childTid: number): void {
  const l = parent.ptrace;
  if (l === null || (l.options & PTRACE_O_TRACEVFORKDONE) === 0) return;
  l.pendingEvents.push({ event: PTRACE_EVENT_VFORK_DONE, msg: BigInt(childTid) });
}

/** A successful execve: PTRACE_EVENT_EXEC (message: the tid the caller had, which differs
 *  when a non-leader thread exec'd), or the SIGTRAP of a tracee that is not seized. */
export function ptraceExec(t: Task, oldTid: number): void {
  const l = t.ptrace;
  if (l === null) return;
  if ((l.options & PTRACE_O_TRACEEXEC) !== 0) l.pendingEvents.push({ event: PTRACE_EVENT_EXEC, msg: BigInt(oldTid) });
  else if (!l.seized) sendSignalToThread(t, sigInfo(SIGTRAP, SI_USER));
}

/** Before the task's last rites: PTRACE_EVENT_EXIT with the exit status as message. Not for
 *  SIGKILL, which since Linux 5.x no longer lets a tracee stop on its way out. */
export async function ptraceExitEvent(t: Task): Promise<void> {
  const l = t.ptrace;
  if (l === null || (l.options & PTRACE_O_TRACEEXIT) === 0) return;
  const status = t.tg.exitStatus ?? (t.exitCode << 8);
  if ((status & 0x7f) === SIGKILL) return;
  l.eventMsg = BigInt(status);
  const code = SIGTRAP | (PTRACE_EVENT_EXIT << 8);
  await stopTracee(t, 'exit', code, trapInfo(t, code));
}
