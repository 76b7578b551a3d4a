// pidfd_open, pidfd_send_signal, pidfd_getfd (Linux kernel/pid.c, kernel/signal.c) over
// kernel/pidfd.ts. PIDFD_THREAD (pidfds of single threads, Linux 6.9) is not offered: EINVAL,
// the answer of the kernels before it.

import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread_group';
import { fail } from '../../kernel/syscall_error';
import { EBADF, EINVAL, ENOENT, EPERM, ESRCH } from '../../abi/linux/errno';
import { O_NONBLOCK } from '../../abi/linux/fcntl';
import { SYS_pidfd_getfd, SYS_pidfd_open, SYS_pidfd_send_signal } from '../../abi/linux/syscall_numbers';
import { ptraceMayAccess } from '../../kernel/ptrace_access';
import { CAP_SYS_PTRACE } from '../../kernel/capabilities';
import { taskAttrs } from './task_attrs';

const SUID_DUMP_USER = 1;
import { PidFd } from '../../kernel/pidfd';
import { SI_USER, sendSignalToProcess, sendSignalToThread, userSigInfo } from '../../kernel/signals';
import { processGroupIds } from './process_group';
import { checkSignal, mayKill, queuedInfo } from './sys_kill';
import type { SyscallArgs, SyscallTable } from './types';
import { getFile, nofileLimit } from './fd_util';
import { findTask, findThreadGroup, vtgid } from '../../kernel/ns/pid_ns';
import { VfsFile } from '../../vfs/vfs_file';
import { procTgidDirOf } from '../../fsimpl/proc/task_dir';

const PIDFD_NONBLOCK = O_NONBLOCK;
const PIDFD_SIGNAL_THREAD = 1, PIDFD_SIGNAL_THREAD_GROUP = 2, PIDFD_SIGNAL_PROCESS_GROUP = 4;

/** A new pidfd for tg in t's table, close-on-exec. */
export function installPidFd(t: Task, tg: ThreadGroup, nonblock: boolean): number {
  const f = new PidFd(t, tg, nonblock);
  try {
    return t.fdTable.newFD(f, { cloexec: true, limit: nofileLimit(t) });
  } finally {
    f.decRef();
  }
}

function sysPidfdOpen(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  const flags = a.uint(1);
  if ((flags & ~PIDFD_NONBLOCK) !== 0 || pid <= 0) fail(EINVAL);
  const tg = findThreadGroup(t, pid);
  if (tg === undefined || tg.reaped) {
    // A thread's id names no process: ENOENT (without PIDFD_THREAD), a free id ESRCH.
    fail(findTask(t, pid) !== undefined ? ENOENT : ESRCH);
  }
  return installPidFd(t, tg, (flags & PIDFD_NONBLOCK) !== 0);
}

export function pidfdOf(t: Task, fd: number): PidFd {
  const f = getFile(t, fd);
  if (!(f instanceof PidFd)) fail(EBADF);
  return f;
}

/** pidfd_to_pid: a pidfd, or an fd of a /proc/<pid> directory (the pidfd before pidfds). */
function signalTarget(t: Task, fd: number): { tg: ThreadGroup; exited: boolean } {
  const f = getFile(t, fd);
  if (f instanceof PidFd) return { tg: f.tg, exited: f.processExited };
  const dir = f instanceof VfsFile ? procTgidDirOf(f.inode) : undefined;
  if (dir === undefined) fail(EBADF);
  // /proc/<tid> of a thread that is not the leader names no thread group (pid_task of
  // PIDTYPE_TGID is empty): ESRCH, as for a process that is gone.
  return { tg: dir.tg, exited: dir.thread !== undefined || dir.tg.zombie || dir.tg.reaped };
}

function sysPidfdSendSignal(t: Task, a: SyscallArgs): number {
  const flags = a.uint(3);
  const scope = flags & (PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_THREAD_GROUP | PIDFD_SIGNAL_PROCESS_GROUP);
  if (flags !== scope || (scope & (scope - 1)) !== 0) fail(EINVAL);
  const p = signalTarget(t, a.int(0));
  const sig = a.int(1);
  checkSignal(sig);
  if (p.exited) fail(ESRCH);
  // access_pidfd_pidns: a process outside the caller's pid namespace is not its to signal.
  if (vtgid(t, p.tg) === 0) fail(EINVAL);
  const info = a.ptr(2) !== 0 ? queuedInfo(t, a.ptr(2), sig, p.tg === t.tg) : userSigInfo(t, sig, SI_USER, p.tg);
  if (scope === PIDFD_SIGNAL_PROCESS_GROUP) {
    const pgid = processGroupIds(p.tg).pgid;
    const group = [...t.kernel.threadGroups.values()].filter((g) => !g.zombie && processGroupIds(g).pgid === pgid);
    let sent = 0;
    for (const g of group) {
      if (!mayKill(t, g, sig)) continue;
      sent++;
      if (sig !== 0) sendSignalToProcess(g, info);
    }
    if (sent === 0) fail(EPERM);
    return 0;
  }
  if (!mayKill(t, p.tg, sig)) fail(EPERM);
  if (sig === 0) return 0;
  const leader = [...p.tg.tasks].find((x) => x.tid === p.tg.tgid);
  if (scope === PIDFD_SIGNAL_THREAD && leader !== undefined) sendSignalToThread(leader, info);
  else sendSignalToProcess(p.tg, info);
  return 0;
}

function sysPidfdGetfd(t: Task, a: SyscallArgs): number {
  const p = pidfdOf(t, a.int(0));
  if (a.uint(2) !== 0) fail(EINVAL);
  if (p.processExited) fail(ESRCH);
  if (!ptraceMayAccess(t, p.tg)) fail(EPERM);
  const target = p.tg.tasks.values().next().value;
  // __ptrace_may_access's last test: another process must be dumpable (or the caller hold
  // CAP_SYS_PTRACE); dropping root made it not dumpable.
  if (p.tg !== t.tg && target !== undefined && taskAttrs(target).dumpable !== SUID_DUMP_USER &&
    !t.creds.hasCapability(CAP_SYS_PTRACE)) {
    fail(EPERM);
  }
  const f = target?.fdTable.get(a.int(1));
  if (f === undefined) fail(EBADF);
  return t.fdTable.newFD(f, { cloexec: true, limit: nofileLimit(t) });
}

export function registerPidfd(table: SyscallTable): void {
  table[SYS_pidfd_open] = { name: 'pidfd_open', handler: sysPidfdOpen, args: ['int', 'hex'] };
  table[SYS_pidfd_send_signal] = { name: 'pidfd_send_signal', handler: sysPidfdSendSignal, args: ['fd', 'signal', 'ptr', 'hex'] };
  table[SYS_pidfd_getfd] = { name: 'pidfd_getfd', handler: sysPidfdGetfd, args: ['fd', 'fd', 'hex'] };
}
