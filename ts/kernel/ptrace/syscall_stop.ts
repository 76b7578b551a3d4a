// Syscall-stops (Linux ptrace_report_syscall_entry/exit, syscall_trace_enter): a tracee
// resumed with PTRACE_SYSCALL stops before its syscall runs, with rax = -ENOSYS and the
// number in orig_rax, and again after, with the result in rax. At entry the tracer may
// change the number and arguments, or set the number to -1 to skip the call (rax is then
// what it left there); at exit it may change the result. PTRACE_SYSEMU stops at entry only
// and never runs the call. task_run.ts calls these only for traced tasks.

import { REG_RAX } from '../../native/addon';
import { ENOSYS } from '../../abi/linux/errno';
import { SIGTRAP } from '../../abi/linux/signal';
import type { Task } from '../task';
import {
  PTRACE_EVENTMSG_SYSCALL_ENTRY, PTRACE_EVENTMSG_SYSCALL_EXIT, PTRACE_O_TRACESYSGOOD,
} from './link';
import { stopTracee, trapInfo } from './stop';
import { takePendingEvent } from './events';
import { ptraceSeccomp, type Dispatch } from './seccomp_stop';
import { sendSignalToThread } from '../signals';
import { sigInfo } from '../sig_pending';

const TRAP_BRKPT = 1;

function syscallTrapCode(t: Task): number {
  return SIGTRAP | ((t.ptrace!.options & PTRACE_O_TRACESYSGOOD) !== 0 ? 0x80 : 0);
}

/** Before the syscall: false when it must not run (skipped by the tracer, or SYSEMU). */
export async function ptraceSyscallEnter(t: Task): Promise<boolean> {
  const l = t.ptrace;
  if (l === null) return true;
  l.inSyscall = false;
  if (l.mode !== 'syscall' && l.mode !== 'sysemu') return true;
  const emu = l.mode === 'sysemu';
  t.regs[REG_RAX] = BigInt.asUintN(64, BigInt(-ENOSYS));
  l.eventMsg = BigInt(PTRACE_EVENTMSG_SYSCALL_ENTRY);
  const code = syscallTrapCode(t);
  await stopTracee(t, 'syscall-entry', code, trapInfo(t, code));
  if (t.exited) return false;
  if (emu || (t.ptrace !== null && t.ptrace.mode === 'sysemu')) return false;
  if (t.ptrace !== null) t.ptrace.inSyscall = t.ptrace.mode === 'syscall';
  // The number as the tracer left it; -1 skips the call with rax as the tracer left it.
  return t.syscallNumber() !== -1;
}

/** After the syscall: a PTRACE_EVENT_SECCOMP stop (and the call again, through dispatch, if
 *  the tracer lets it run), the event stops it owes (fork, exec), the syscall-exit-stop. */
export async function ptraceSyscallExit(t: Task, dispatch: Dispatch): Promise<void> {
  if (t.exited) return;
  if (t.ptrace?.seccompData != null) await ptraceSeccomp(t, dispatch);
  if (t.exited) return;
  await takePendingEvent(t);
  const l = t.ptrace;
  if (l === null || t.exited) return;
  // As syscall_exit_work: whoever resumed it last asked for syscall stops, whatever the
  // entry was (an event stop inside the call may have been resumed with PTRACE_SYSCALL).
  l.inSyscall = false;
  if (l.step) {
    // A step over a syscall traps as it returns (user_single_step_report), before the
    // next instruction.
    sendSignalToThread(t, sigInfo(SIGTRAP, TRAP_BRKPT, { addr: t.ip }));
    return;
  }
  if (l.mode !== 'syscall') return;
  l.eventMsg = BigInt(PTRACE_EVENTMSG_SYSCALL_EXIT);
  const code = syscallTrapCode(t);
  await stopTracee(t, 'syscall-exit', code, trapInfo(t, code));
}
