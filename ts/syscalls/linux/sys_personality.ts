// personality (Linux kernel/exec_domain.c): recorded per task; only PER_LINUX (0) and its
// flag bits exist on x86-64. Those that change behaviour are read where they do
// (STICKY_TIMEOUTS in sys_poll.ts).

import type { Task } from '../../kernel/task';
import { SYS_personality } from '../../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallTable } from './types';
import { taskAttrs } from './task_attrs';

/** 0xffffffff only queries. */
function sysPersonality(t: Task, a: SyscallArgs): number {
  const attrs = taskAttrs(t);
  const old = attrs.personality;
  const next = a.uint(0);
  if (next !== 0xffffffff) attrs.personality = next;
  return old;
}

export function registerPersonality(table: SyscallTable): void {
  table[SYS_personality] = { name: 'personality', handler: sysPersonality, args: ['hex'] };
}
