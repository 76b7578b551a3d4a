// getpgrp, getpgid, setpgid, getsid, setsid (Linux kernel/sys.c) over process_group.ts.

import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread_group';
import { fail } from '../../kernel/syscall_error';
import { EACCES, EINVAL, EPERM, ESRCH } from '../../abi/linux/errno';
import { taskAttrs } from './task_attrs';
import { SYS_getpgid, SYS_getpgrp, SYS_getsid, SYS_setpgid, SYS_setsid } from '../../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallTable } from './types';
import {
  pgidIn, processGroupExists, processGroupIds, setProcessGroupIds, sidIn,
} from './process_group';
import { findTask, findThreadGroup, threadGroupsOf, vtgid } from '../../kernel/ns/pid_ns';

/** pid 0 is the caller; otherwise any live process (thread ids name their group too). */
function processOf(t: Task, pid: number): ThreadGroup {
  if (pid === 0) return t.tg;
  const tg = findThreadGroup(t, pid) ?? findTask(t, pid)?.tg;
  if (!tg) fail(ESRCH);
  return tg;
}

function sysSetsid(t: Task): number {
  const tgid = t.tg.tgid;
  // A process that leads (or whose pid names) a process group cannot start a session.
  if (processGroupExists(t.kernel, tgid)) fail(EPERM);
  const pid = t.tg.leaderPid;
  setProcessGroupIds(t.tg, { pgid: tgid, sid: tgid, pgrp: pid, session: pid, tty: null });
  return vtgid(t, t.tg);
}

/** Linux setpgid: the caller or one of its children that has not exec'd; not a session
 *  leader; a group in the caller's session (or a new one named after the target). */
function sysSetpgid(t: Task, a: SyscallArgs): number {
  const pid = a.int(0) || vtgid(t, t.tg);
  const pgidArg = a.int(1);
  if (pgidArg < 0) fail(EINVAL);
  const target = findThreadGroup(t, pid);
  if (!target || (target !== t.tg && target.parent !== t.tg)) fail(ESRCH);
  const mine = processGroupIds(t.tg);
  const theirs = processGroupIds(target);
  // The group is named in the caller's pid namespace.
  const pgid = pgidArg || pid;
  if (target !== t.tg) {
    // A child: in the caller's session, and not since its execve (EACCES).
    if (theirs.sid !== mine.sid) fail(EPERM);
    const leader = t.kernel.tasks.get(target.tgid) ?? target.tasks.values().next().value;
    if (leader !== undefined && !taskAttrs(leader).forkNoExec) fail(EACCES);
  }
  if (theirs.sid === target.tgid) fail(EPERM);
  if (theirs.sid !== mine.sid) fail(EPERM);
  let group = { pgid: target.tgid, pgrp: target.leaderPid };
  if (pgid !== pid) {
    const ns = t.threadPid.ns;
    const member = [...threadGroupsOf(t.kernel, ns).values()].find((m) =>
      pgidIn(ns, m) === pgid && processGroupIds(m).sid === mine.sid);
    if (member === undefined) fail(EPERM);
    const ids = processGroupIds(member);
    group = { pgid: ids.pgid, pgrp: ids.pgrp };
  }
  setProcessGroupIds(target, { ...group, sid: theirs.sid, session: theirs.session });
  return 0;
}

export function registerProcessGroup(table: SyscallTable): void {
  table[SYS_getpgrp] = { name: 'getpgrp', handler: (t) => pgidIn(t.threadPid.ns, t.tg), args: [] };
  table[SYS_getpgid] = {
    name: 'getpgid', handler: (t, a) => pgidIn(t.threadPid.ns, processOf(t, a.int(0))), args: ['int'],
  };
  table[SYS_getsid] = {
    name: 'getsid', handler: (t, a) => sidIn(t.threadPid.ns, processOf(t, a.int(0))), args: ['int'],
  };
  table[SYS_setsid] = { name: 'setsid', handler: sysSetsid, args: [] };
  table[SYS_setpgid] = { name: 'setpgid', handler: sysSetpgid, args: ['int', 'int'] };
}
