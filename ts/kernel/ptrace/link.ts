// The tracer/tracee relation (Linux task->ptrace, ->parent, ->ptraced, jobctl trap bits):
// what a tracee carries while it is traced. It owns the stop state the tracer's wait reads
// and the tracer's requests change; stopping and resuming live in stop.ts, attaching and
// detaching in attach.ts. Untraced tasks have no link (Task.ptrace === null), so every hook
// on a hot path costs them one field test.

import type { Credentials } from '../credentials';
import type { Task } from '../task';
import type { SigInfo } from '../sig_pending';
import type { ThreadGroup } from '../thread_group';

export const PTRACE_O_TRACESYSGOOD = 0x1, PTRACE_O_TRACEFORK = 0x2, PTRACE_O_TRACEVFORK = 0x4,
  PTRACE_O_TRACECLONE = 0x8, PTRACE_O_TRACEEXEC = 0x10, PTRACE_O_TRACEVFORKDONE = 0x20,
  PTRACE_O_TRACEEXIT = 0x40, PTRACE_O_TRACESECCOMP = 0x80, PTRACE_O_EXITKILL = 0x10_0000,
  PTRACE_O_SUSPEND_SECCOMP = 0x20_0000;
export const PTRACE_O_MASK = 0xff | PTRACE_O_EXITKILL | PTRACE_O_SUSPEND_SECCOMP;

export const PTRACE_EVENT_FORK = 1, PTRACE_EVENT_VFORK = 2, PTRACE_EVENT_CLONE = 3,
  PTRACE_EVENT_EXEC = 4, PTRACE_EVENT_VFORK_DONE = 5, PTRACE_EVENT_EXIT = 6,
  PTRACE_EVENT_SECCOMP = 7, PTRACE_EVENT_STOP = 128;

/** PTRACE_GETEVENTMSG at a syscall stop (Linux 5.3+). */
export const PTRACE_EVENTMSG_SYSCALL_ENTRY = 1, PTRACE_EVENTMSG_SYSCALL_EXIT = 2;

/** Why the tracee is stopped: what GETSIGINFO, GET_SYSCALL_INFO and LISTEN may do there. */
export type StopKind = 'signal' | 'group' | 'event' | 'syscall-entry' | 'syscall-exit' | 'exit';

/** How the tracee was last resumed (TIF_SYSCALL_TRACE, TIF_SYSCALL_EMU); single-stepping
 *  is PtraceLink.step on top of one of these. */
export type ResumeMode = 'cont' | 'syscall' | 'sysemu';

export class PtraceLink {
  options = 0;
  /** In a ptrace-stop (TASK_TRACED): the tracer may inspect and resume it. */
  stopped = false;
  /** PTRACE_LISTEN: still stopped, but not inspectable, until a new trap. */
  listening = false;
  stopKind: StopKind = 'signal';
  /** The wait status the tracer's wait has not yet taken (task->exit_code as a status). */
  report: number | null = null;
  /** The stop's siginfo (last_siginfo); null at a group-stop, where GETSIGINFO is EINVAL. */
  siginfo: SigInfo | null = null;
  /** PTRACE_GETEVENTMSG. */
  eventMsg = 0n;
  mode: ResumeMode = 'cont';
  /** PTRACE_SINGLESTEP / SYSEMU_SINGLESTEP: trap after one instruction (TF). */
  step = false;
  /** TF was set by the tracer's step, not the program (TIF_FORCED_TF): hidden from the
   *  tracer's view of eflags and cleared when stepping ends. */
  forcedTF = false;
  /** The signal the tracer resumed with (0: none, or suppressed). */
  resumeSig = 0;
  /** JOBCTL_TRAP_STOP: PTRACE_INTERRUPT or a seized new child; traps at the next return to
   *  user mode with PTRACE_EVENT_STOP. */
  trapPending = false;
  /** A group stop already reported for this stop (its sequence number): the tracer resumed
   *  the task, which then runs through the rest of the stop. */
  groupStopSeen = -1;
  /** A signal the tracer injected at a signal-delivery-stop, delivered without stopping. */
  inject: SigInfo | null = null;
  /** A signal taken from the queue that must first be reported (signal_deliver.ts). */
  signalStop: SigInfo | null = null;
  /** Event stops the current syscall owes before it returns (fork, vfork-done, exec). */
  pendingEvents: { event: number; msg: bigint }[] = [];
  /** SECCOMP_RET_TRACE's data, while the PTRACE_EVENT_SECCOMP stop it asks for is owed. */
  seccompData: number | null = null;
  /** The filters run again after that stop, and a second RET_TRACE lets the call run. */
  seccompRecheck = false;
  /** The syscall-entry stop was taken: the exit stop follows (unless resumed with CONT). */
  inSyscall = false;
  /** Ends the current stop (the tracee's parked run loop goes on). */
  wake: (() => void) | null = null;

  /** ptracer_cred: whose credentials vouch for the tracing (the tracer's at ATTACH/SEIZE,
   *  the tracee's own at TRACEME, inherited by auto-attached children); a set-id exec
   *  gains privileges only when they hold CAP_SYS_PTRACE (ptracer_capable). */
  constructor(public tracer: Task, readonly seized: boolean, readonly ptracerCred: Credentials) {}
}

/** The tracer's side: its tracees (task->ptraced) and their exits it has not waited for. */
export interface TracerState {
  readonly tracees: Set<Task>;
  readonly exits: { task: Task; status: number }[];
}

/** Zombies whose real parent hears of them only once their tracer has waited for them
 *  (Linux keeps a traced zombie for its tracer first): the parent's notification, once
 *  exit.ts has asked for it. */
const held = new Map<ThreadGroup, (() => void) | null>();

export function holdZombie(tg: ThreadGroup): void {
  held.set(tg, null);
}

/** exit.ts: whether tg's parent must wait for the tracer; notify runs when it may go on. */
export function zombieHeld(tg: ThreadGroup, notify?: () => void): boolean {
  if (!held.has(tg)) return false;
  if (notify) held.set(tg, notify);
  return true;
}

/** The tracer has taken tg's exit (or is gone): the real parent is told now. */
export function releaseZombie(tg: ThreadGroup): void {
  if (!held.has(tg)) return;
  const notify = held.get(tg);
  held.delete(tg);
  notify?.();
}

const tracers = new WeakMap<Task, TracerState>();

export function tracerState(t: Task): TracerState {
  let s = tracers.get(t);
  if (!s) {
    s = { tracees: new Set(), exits: [] };
    tracers.set(t, s);
  }
  return s;
}

export function tracerStateIfAny(t: Task): TracerState | undefined {
  return tracers.get(t);
}
