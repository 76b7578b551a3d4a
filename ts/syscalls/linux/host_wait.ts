// The syscalls whose gofer lookups may wait without blocking the sentry (vfs/host_wait.ts):
// those that look names, attributes, listings or links up before they change anything
// (an open's create and the walk after it are made with withoutHostWait; a request that
// changes the host, or execve's point of no return, commits the attempt). A request left
// in an attempt means whatever the attempt returned or threw is void: the task waits for the
// host's reply, interruptibly, then the syscall runs again from its registers. The syscalls
// that return 0 once their change is made (CHANGES) may also leave the change itself: its
// reply not come within the limit, the task waits for it and the rest of the syscall runs then
// (vfs/change_wait.ts); local disks answer at once and never take that path.

import type { Task } from '../../kernel/task';
import { block } from '../../kernel/blocking';
import {
  SYS_access, SYS_chdir, SYS_chmod, SYS_chown, SYS_execve, SYS_execveat, SYS_faccessat, SYS_faccessat2, SYS_fchmod,
  SYS_fchmodat, SYS_fchown, SYS_fchownat, SYS_fstat, SYS_ftruncate, SYS_futimesat, SYS_getdents, SYS_getdents64,
  SYS_lchown, SYS_link, SYS_linkat, SYS_lstat, SYS_mkdir, SYS_mkdirat, SYS_mknod, SYS_mknodat, SYS_newfstatat,
  SYS_open, SYS_openat, SYS_openat2, SYS_readlink, SYS_readlinkat, SYS_rename, SYS_renameat, SYS_renameat2,
  SYS_rmdir, SYS_stat, SYS_statfs, SYS_statx, SYS_symlink, SYS_symlinkat, SYS_truncate, SYS_unlink, SYS_unlinkat,
  SYS_utime, SYS_utimensat, SYS_utimes,
} from '../../abi/linux/syscall_numbers';
import { ChangeWait } from '../../vfs/change_wait';
import { HOST_WAIT_MAX_MS, HOST_WAIT_MS, asHostWaitAttempt, hostWaitEnabled, type HostWaitAttempt } from '../../vfs/host_wait';
import { RegisterArgs } from './args';
import type { SyscallHandler, SyscallReturn, SyscallTable } from './types';

const LOOKUPS = [
  SYS_stat, SYS_lstat, SYS_fstat, SYS_newfstatat, SYS_statx, SYS_statfs, SYS_access, SYS_faccessat, SYS_faccessat2,
  SYS_readlink, SYS_readlinkat, SYS_getdents, SYS_getdents64, SYS_open, SYS_openat, SYS_openat2, SYS_chdir,
  // Its lookups come before its point of no return, which commits the attempt.
  SYS_execve, SYS_execveat,
];

/** Their lookups come before their change: the request that makes it commits the attempt,
 *  and nothing after it is left (vfs/host_wait.ts); each returns 0 once the change is made. */
const CHANGES = [
  SYS_rename, SYS_renameat, SYS_renameat2, SYS_unlink, SYS_unlinkat, SYS_rmdir, SYS_mkdir, SYS_mkdirat,
  SYS_mknod, SYS_mknodat, SYS_symlink, SYS_symlinkat, SYS_link, SYS_linkat,
  SYS_chmod, SYS_fchmod, SYS_fchmodat, SYS_chown, SYS_fchown, SYS_lchown, SYS_fchownat, SYS_truncate, SYS_ftruncate,
  SYS_utime, SYS_utimes, SYS_futimesat, SYS_utimensat,
];

export function registerHostWaits(table: SyscallTable): void {
  for (const [nrs, changes] of [[LOOKUPS, false], [CHANGES, true]] as const) {
    for (const nr of nrs) {
      const e = table[nr];
      if (e) e.handler = mayWaitOnHost(e.handler, changes);
    }
  }
}

function mayWaitOnHost(h: SyscallHandler, changes: boolean): SyscallHandler {
  // No gate anywhere (no tree may block): the handler as it is, nothing allocated.
  return (t, a) => (hostWaitEnabled() ? attempt(t, HOST_WAIT_MS, () => h(t, a), h, changes) : h(t, a));
}

function attempt(t: Task, limitMs: number, call: () => SyscallReturn, h: SyscallHandler, changes: boolean): SyscallReturn {
  const a: HostWaitAttempt = { limitMs, pending: null, changes };
  let r: SyscallReturn;
  try { r = asHostWaitAttempt(a, call); } catch (e) {
    if (e instanceof ChangeWait) return e.wait(t).then(() => 0);
    if (a.pending === null) throw e;
    return waitThenRetry(t, a.pending, h, changes);
  }
  if (a.pending === null) return r;
  // A promise this attempt began settles unheeded: the retry's answer is the syscall's.
  if (typeof r === 'object') r.catch(() => {});
  return waitThenRetry(t, a.pending, h, changes);
}

async function waitThenRetry(t: Task, p: { done: Promise<void>; flush: () => void }, h: SyscallHandler,
  changes: boolean): Promise<number | bigint> {
  const t0 = performance.now();
  try {
    await block<void>(t, (wake) => { p.done.then(wake, wake); return () => {}; });
  } catch (e) {
    p.flush(); // a signal or death first: the server drops the request
    throw e;
  }
  const took = performance.now() - t0;
  // The registers still hold the syscall's arguments (the shared RegisterArgs may not).
  const args = new RegisterArgs();
  args.reset(t.regs);
  const limit = Math.min(HOST_WAIT_MAX_MS, Math.max(HOST_WAIT_MS, 2 * took));
  return attempt(t, limit, () => h(t, args), h, changes);
}
