// exit, exit_group. The kernel decides what ending a task or a group means (wait statuses,
// reaping); these only pass the status byte on. The value returned here is never seen: the
// task's run loop stops once it is marked exited.

import type { Task } from '../../kernel/task';
import { SYS_exit, SYS_exit_group } from '../../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallTable } from './types';

function sysExit(t: Task, a: SyscallArgs): number {
  t.kernel.exitTask(t, a.int(0) & 0xff);
  return 0;
}

function sysExitGroup(t: Task, a: SyscallArgs): number {
  t.kernel.exitGroup(t, a.int(0) & 0xff);
  return 0;
}

export function registerExit(table: SyscallTable): void {
  table[SYS_exit] = { name: 'exit', handler: sysExit, args: ['int'] };
  table[SYS_exit_group] = { name: 'exit_group', handler: sysExitGroup, args: ['int'] };
}
