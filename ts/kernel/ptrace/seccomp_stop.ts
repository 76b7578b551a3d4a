// PTRACE_EVENT_SECCOMP (Linux __seccomp_filter's SECCOMP_RET_TRACE case): a filter asks the
// tracer to decide about a syscall. The filter runs synchronously inside the dispatcher, so
// the call is set aside there (seccompTrace) and the stop is taken by the traced syscall
// path right after (ptraceSeccompStop). Then, as Linux does, the tracer may have skipped
// the call (number -1) or changed it; otherwise the filters run again, and a second
// RET_TRACE lets the call through.

import { REG_RAX } from '../../native/addon';
import { ENOSYS } from '../../abi/linux/errno';
import { SIGTRAP } from '../../abi/linux/signal';
import type { Task } from '../task';
import { PTRACE_EVENT_SECCOMP, PTRACE_O_TRACESECCOMP } from './link';
import { stopTracee, trapInfo } from './stop';

/** The syscall dispatcher, passed in by the run loop: importing it here would make
 *  seccomp.ts, which the dispatcher's tables import, part of a cycle. */
export type Dispatch = (t: Task) => void | Promise<void>;

/** From seccompCheck: 'stop' when a tracer takes the decision (the call is set aside),
 *  'run' for the filters' second run after that stop, 'none' without such a tracer. */
export function seccompTrace(t: Task, data: number): 'stop' | 'run' | 'none' {
  const l = t.ptrace;
  if (l === null || (l.options & PTRACE_O_TRACESECCOMP) === 0) return 'none';
  if (l.seccompRecheck) {
    l.seccompRecheck = false;
    return 'run';
  }
  l.seccompData = data;
  t.regs[REG_RAX] = BigInt.asUintN(64, BigInt(-ENOSYS));
  return 'stop';
}

/** The owed stop; returns true when the syscall is to be dispatched again (the tracer let
 *  it run), false when it stays skipped. */
export async function ptraceSeccompStop(t: Task): Promise<boolean> {
  const l = t.ptrace;
  if (l === null || l.seccompData === null) return false;
  l.eventMsg = BigInt(l.seccompData);
  l.seccompData = null;
  const code = SIGTRAP | (PTRACE_EVENT_SECCOMP << 8);
  await stopTracee(t, 'event', code, trapInfo(t, code));
  if (t.exited || t.syscallNumber() === -1) return false;
  if (t.ptrace === null) return false;
  t.ptrace.seccompRecheck = true;
  return true;
}

/** The stop, then the call once more if the tracer let it run (the filters decide again). */
export async function ptraceSeccomp(t: Task, dispatch: Dispatch): Promise<void> {
  if (!(await ptraceSeccompStop(t))) return;
  const p = dispatch(t);
  if (p) await p;
  if (t.ptrace !== null) t.ptrace.seccompRecheck = false;
}
