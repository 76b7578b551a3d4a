// vhangup (Linux drivers/tty/tty_io.c): hang up the caller's controlling terminal, if it
// has one (kernel/tty_hangup.ts); CAP_SYS_TTY_CONFIG required.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EPERM } from '../../abi/linux/errno';
import { SYS_vhangup } from '../../abi/linux/syscall_numbers';
import { controllingTty } from '../../kernel/job_control_tty';
import { ttyVhangup } from '../../kernel/tty_hangup';
import type { SyscallTable } from './types';

const CAP_SYS_TTY_CONFIG = 26;

function sysVhangup(t: Task): number {
  if (!t.creds.hasCapability(CAP_SYS_TTY_CONFIG)) fail(EPERM);
  const tty = controllingTty(t);
  if (tty !== null) ttyVhangup(t.kernel, tty);
  return 0;
}

export function registerVhangup(table: SyscallTable): void {
  table[SYS_vhangup] = { name: 'vhangup', handler: sysVhangup, args: [] };
}
