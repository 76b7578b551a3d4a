// getpgrp, getpgid, setpgid, getsid, setsid (Linux kernel/sys.c) over process_group.ts.

import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread_group';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, EPERM, ESRCH } from '../../abi/linux/errno';
import { SYS_getpgid, SYS_getpgrp, SYS_getsid, SYS_setpgid, SYS_setsid } from '../../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallTable } from './types';
import {
  processGroupExists, processGroupIds, processGroupInSession, setProcessGroupIds,
} from './process_group';

/** pid 0 is the caller; otherwise any live process (thread ids name their group too). */
function processOf(t: Task, pid: number): ThreadGroup {
  if (pid === 0) return t.tg;
  const tg = t.kernel.threadGroups.get(pid) ?? t.kernel.tasks.get(pid)?.tg;
  if (!tg) fail(ESRCH);
  return tg;
}

function sysSetsid(t: Task): number {
  const tgid = t.tg.tgid;
  // A process that leads (or whose pid names) a process group cannot start a session.
  if (processGroupExists(t.kernel, tgid)) fail(EPERM);
  setProcessGroupIds(t.tg, { pgid: tgid, sid: tgid, tty: null });
  return tgid;
}

/** Linux setpgid: the caller or one of its children; not a session leader; a group in
 *  the caller's session (or a new one named after the target). */
function sysSetpgid(t: Task, a: SyscallArgs): number {
  const pid = a.int(0) || t.tg.tgid;
  const pgidArg = a.int(1);
  if (pgidArg < 0) fail(EINVAL);
  const target = t.kernel.threadGroups.get(pid);
  if (!target || (target !== t.tg && target.parent !== t.tg)) fail(ESRCH);
  const mine = processGroupIds(t.tg);
  const theirs = processGroupIds(target);
  const pgid = pgidArg || pid;
  if (theirs.sid === target.tgid) fail(EPERM);
  if (theirs.sid !== mine.sid) fail(EPERM);
  if (pgid !== pid && !processGroupInSession(t.kernel, pgid, mine.sid)) fail(EPERM);
  setProcessGroupIds(target, { pgid, sid: theirs.sid });
  return 0;
}

export function registerProcessGroup(table: SyscallTable): void {
  table[SYS_getpgrp] = { name: 'getpgrp', handler: (t) => processGroupIds(t.tg).pgid, args: [] };
  table[SYS_getpgid] = {
    name: 'getpgid', handler: (t, a) => processGroupIds(processOf(t, a.int(0))).pgid, args: ['int'],
  };
  table[SYS_getsid] = {
    name: 'getsid', handler: (t, a) => processGroupIds(processOf(t, a.int(0))).sid, args: ['int'],
  };
  table[SYS_setsid] = { name: 'setsid', handler: sysSetsid, args: [] };
  table[SYS_setpgid] = { name: 'setpgid', handler: sysSetpgid, args: ['int', 'int'] };
}
