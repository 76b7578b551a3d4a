// __ptrace_may_access (Linux kernel/ptrace.c) as far as the sandbox keeps the state it needs:
// a task may access its own process; otherwise its real ids (REALCREDS: pidfd_getfd,
// process_vm_*, kcmp) must be all of the target's uids and gids, or it needs CAP_SYS_PTRACE.
// (The target's dumpable flag and LSMs are not consulted.)

import type { Task } from './task';
import type { ThreadGroup } from './thread_group';
import { CAP_SYS_PTRACE } from './capabilities';

export function ptraceMayAccess(t: Task, tg: ThreadGroup): boolean {
  if (tg === t.tg) return true;
  if (t.creds.hasCapability(CAP_SYS_PTRACE)) return true;
  const target = tg.tasks.values().next().value;
  if (target === undefined) return false;
  const c = t.creds, o = target.creds;
  return c.uid === o.uid && c.uid === o.euid && c.uid === o.suid && c.gid === o.gid && c.gid === o.egid && c.gid === o.sgid;
}
