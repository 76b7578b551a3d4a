// The syscall dispatcher: looks the number up in the table, runs the handler, turns a thrown
// SyscallError into -errno, and prints the strace line when asked. The common case — a
// synchronous handler — allocates nothing and returns a number; only blocking handlers
// return a Promise.

import { writeSync } from 'node:fs';
import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { EFAULT, ENOSYS, EIO } from '../../abi/linux/errno';
import { vsyscallFault } from '../../kernel/vsyscall';
import { SYSCALL_NAMES } from '../../abi/linux/syscall_numbers';
import type { SyscallResult, SyscallTable } from './types';
import { RegisterArgs } from './args';
import { registerAll } from './register_all';
import { straceLine } from '../../strace/load';
import { maybePatchSyscall } from '../../platform/syscall_patch';
import { AUDIT_ARCH_X86_64, SECCOMP_RUN, SECCOMP_SKIP, seccompCheck } from '../../kernel/seccomp';
import { syscallProf } from './syscall_prof';
import { SIGSYS } from '../../abi/linux/signal';
import { EV_SIGNO } from '../../native/addon';

export const table: SyscallTable = [];
registerAll(table);

const args = new RegisterArgs();

function errnoOf(t: Task, nr: number, e: unknown): number {
  if (e instanceof SyscallError) return e.errno;
  // A bug in a handler must cost the application one syscall, never the sentry its life;
  // say so loudly, since it is our bug.
  const what = e instanceof Error ? (e.stack ?? e.message) : String(e);
  process.stderr.write(`tsvisor: internal error in ${SYSCALL_NAMES[nr] ?? nr}: ${what}\n`);
  t.kernel.debug(`internal error in syscall ${nr}: ${what}`);
  return EIO;
}

function finish(t: Task, nr: number, r: SyscallResult): void {
  if (t.kernel.strace) {
    const entry = table[nr];
    args.reset(t.regs);
    writeSync(2, straceLine(t, nr, entry, args, r) + '\n');
  }
  t.setReturn(r);
  // A copy to or from the application that needed a page past the memory limit.
  if (t.mm.oomFault) t.kernel.oomKill(t);
}

/** Runs the syscall the task stopped at and stores its result in rax. */
export function dispatchSyscall(t: Task): void | Promise<void> {
  if (syscallProf === null) return dispatch(t);
  const nr = t.syscallNumber(), t0 = performance.now();
  const trapped = t.ctx.words[EV_SIGNO * 2] === SIGSYS;
  const r = dispatch(t);
  syscallProf.add(nr, performance.now() - t0, trapped);
  return r;
}

function dispatch(t: Task): void | Promise<void> {
  maybePatchSyscall(t);
  const nr = t.syscallNumber();
  if (t.seccomp !== null) {
    const sr = seccompCheck(t, t.seccomp, nr, AUDIT_ARCH_X86_64);
    if (sr !== SECCOMP_RUN) {
      if (sr !== SECCOMP_SKIP) finish(t, nr, sr);
      return;
    }
  }
  const entry = nr >= 0 && nr < table.length ? table[nr] : undefined;
  if (!entry) {
    t.kernel.unknownSyscall(t, nr);
    finish(t, nr, -ENOSYS);
    return;
  }
  let r;
  try {
    args.reset(t.regs);
    r = entry.handler(t, args);
  } catch (e) {
    if (e instanceof SyscallError && e.errno === EFAULT) vsyscallFault(t, nr);
    finish(t, nr, -errnoOf(t, nr, e));
    return;
  }
  if (typeof r === 'number' || typeof r === 'bigint') {
    finish(t, nr, r);
    return;
  }
  return r.then((v) => finish(t, nr, v), (e: unknown) => finish(t, nr, -errnoOf(t, nr, e)));
}
