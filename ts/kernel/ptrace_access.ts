// __ptrace_may_access (Linux kernel/ptrace.c) as far as the sandbox keeps the state it needs:
// a task may access its own process; otherwise its real ids (REALCREDS: pidfd_getfd,
// process_vm_*, kcmp) must be all of the target's uids and gids, or it needs CAP_SYS_PTRACE.
// (The target's dumpable flag is not consulted; of the LSMs, Landlock's scope is.)

import type { Task } from './task';
import type { ThreadGroup } from './thread_group';
import { CAP_SYS_PTRACE } from './capabilities';
import { SyscallError } from './syscall_error';
import { EACCES } from '../abi/linux/errno';
import { taskAttrs } from '../syscalls/linux/task_attrs';

/** For a /proc/<pid> file that asks for ptrace read access (mm_access, lock_trace,
 *  proc_fd_access_allowed): EACCES for a reader who may not trace the process. A null reader
 *  is the sentry itself. */
export function checkProcReadAccess(reader: Task | null, tg: ThreadGroup): void {
  if (reader !== null && !ptraceMayAccess(reader, tg)) throw new SyscallError(EACCES);
}

export function ptraceMayAccess(t: Task, tg: ThreadGroup): boolean {
  if (tg === t.tg) return true;
  // A zombie's credentials are its last thread's (they outlive its mm).
  const target = tg.tasks.values().next().value ?? tg.lastExited;
  if (target === undefined || target === null) return false;
  // Landlock's ptrace_access_check, whatever the capabilities: a domain reaches only tasks
  // inside it (its own domain or one nested in it).
  const dom = t.creds.landlock;
  if (dom !== null && !dom.scopes(target.creds.landlock)) return false;
  if (t.creds.hasCapability(CAP_SYS_PTRACE)) return true;
  const c = t.creds, o = target.creds;
  return c.uid === o.uid && c.uid === o.euid && c.uid === o.suid && c.gid === o.gid && c.gid === o.egid && c.gid === o.sgid;
}

/** The yama ptrace_scope tsvisor enforces. The host has no yama (no
 *  /proc/sys/kernel/yama/ptrace_scope), so the sandbox takes the common default, 1:
 *  "restricted ptrace", only a descendant may be attached to without CAP_SYS_PTRACE. */
export const YAMA_PTRACE_SCOPE = 1;

const SUID_DUMP_USER = 1;

/** ptrace_may_access(PTRACE_MODE_ATTACH_REALCREDS) plus yama's relation check, for
 *  PTRACE_ATTACH and PTRACE_SEIZE: the same real ids and a dumpable target (or
 *  CAP_SYS_PTRACE), and the target a descendant of the tracer (yama scope 1). */
export function ptraceMayAttach(t: Task, target: Task): boolean {
  if (!ptraceMayAccess(t, target.tg)) return false;
  const privileged = t.creds.hasCapability(CAP_SYS_PTRACE);
  if (taskAttrs(target).dumpable !== SUID_DUMP_USER && !privileged) return false;
  if (privileged) return true;
  for (let a = target.tg.parent; a !== null; a = a.parent) if (a === t.tg) return true;
  return false;
}
