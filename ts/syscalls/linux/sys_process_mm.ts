// process_madvise and process_mrelease (Linux mm/madvise.c, mm/oom_kill.c): memory advice
// given through a pidfd, to the caller's own address space or (non-destructive hints only,
// with CAP_SYS_NICE and ptrace read access) another process's; and the early release of a
// dying process's memory, which here only reports what Linux would (the sandbox frees an
// exiting process's memory as it goes).

import type { Task } from '../../kernel/task';
import type { SyscallArgs, SyscallTable } from './types';
import { SYS_process_madvise, SYS_process_mrelease } from '../../abi/linux/syscall_numbers';
import { EACCES, EINVAL, EPERM, ESRCH } from '../../abi/linux/errno';
import { MADV_COLD, MADV_COLLAPSE, MADV_PAGEOUT, MADV_WILLNEED } from '../../abi/linux/mm';
import { SyscallError, fail } from '../../kernel/syscall_error';
import { CAP_SYS_NICE, CAP_SYS_PTRACE } from '../../kernel/capabilities';
import { ptraceMayAccess } from '../../kernel/ptrace_access';
import { copyInIovecs } from './user_io';
import { pidfdOf } from './sys_pidfd';
import { taskAttrs } from './task_attrs';

const SUID_DUMP_USER = 1;
const REMOTE_ADVICE = new Set([MADV_COLD, MADV_PAGEOUT, MADV_WILLNEED, MADV_COLLAPSE]);

function sysProcessMadvise(t: Task, a: SyscallArgs): number {
  if (a.uint(4) !== 0) fail(EINVAL);
  const iovs = copyInIovecs(t, a.ptr(1), a.size(2));
  const p = pidfdOf(t, a.int(0));
  if (p.tg.reaped) fail(ESRCH);
  const target = p.tg.tasks.values().next().value;
  if (target === undefined || p.processExited) fail(ESRCH);
  const self = target.mm === t.mm;
  // mm_access(PTRACE_MODE_READ_FSCREDS).
  if (!self && (!ptraceMayAccess(t, p.tg) ||
    (taskAttrs(target).dumpable !== SUID_DUMP_USER && !t.creds.hasCapability(CAP_SYS_PTRACE)))) {
    fail(EACCES);
  }
  const advice = a.int(3);
  if (!self && !REMOTE_ADVICE.has(advice)) fail(EINVAL);
  if (!self && !t.creds.hasCapability(CAP_SYS_NICE)) fail(EPERM);
  // vector_madvise: range by range; a failure after some were advised reports those bytes.
  let done = 0;
  for (const v of iovs) {
    try {
      target.mm.madvise(v.base, v.len, advice);
    } catch (e) {
      if (done > 0 && e instanceof SyscallError) return done;
      throw e;
    }
    done += v.len;
  }
  return done;
}

function sysProcessMrelease(t: Task, a: SyscallArgs): number {
  if (a.uint(1) !== 0) fail(EINVAL);
  const p = pidfdOf(t, a.int(0));
  // An exited process (zombie or reaped) is ESRCH; one whose fatal signal or exit_group is
  // under way (task_will_free_mem) is done; one that is not dying, EINVAL.
  if (p.processExited) fail(ESRCH);
  if (p.tg.exitStatus !== null) return 0;
  fail(EINVAL);
}

export function registerProcessMm(table: SyscallTable): void {
  table[SYS_process_madvise] = { name: 'process_madvise', handler: sysProcessMadvise, args: ['fd', 'iovec', 'size', 'int', 'hex'] };
  table[SYS_process_mrelease] = { name: 'process_mrelease', handler: sysProcessMrelease, args: ['fd', 'hex'] };
}
