// syslog (Linux kernel/printk/printk.c do_syslog): the sandbox's kernel log, which is empty —
// nothing in the sentry logs through it — behind Linux's checks: with dmesg_restrict on (as
// the sandbox's /proc/sys/kernel/dmesg_restrict would say), every action but close/open needs
// CAP_SYSLOG. Reading waits for messages that never come, as an empty log's reader does.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EFAULT, EINVAL, EPERM } from '../../abi/linux/errno';
import { SYS_syslog } from '../../abi/linux/syscall_numbers';
import { block } from '../../kernel/blocking';
import { CAP_SYSLOG } from '../../kernel/capabilities';
import type { SyscallArgs, SyscallReturn, SyscallTable } from './types';
import { accessOk } from './user_io';

const CLOSE = 0, OPEN = 1, READ = 2, READ_ALL = 3, READ_CLEAR = 4, CLEAR = 5, CONSOLE_OFF = 6,
  CONSOLE_ON = 7, CONSOLE_LEVEL = 8, SIZE_UNREAD = 9, SIZE_BUFFER = 10;
/** CONFIG_LOG_BUF_SHIFT 17: Debian's. */
const LOG_BUF_LEN = 1 << 17;

function sysSyslog(t: Task, a: SyscallArgs): SyscallReturn {
  const type = a.int(0);
  const buf = a.ptr(1);
  const len = a.int(2);
  if (type === CLOSE || type === OPEN) return 0;
  if (type < 0 || type > SIZE_BUFFER) fail(EINVAL);
  if (!t.creds.hasCapability(CAP_SYSLOG)) fail(EPERM);
  switch (type) {
    case READ:
      if (buf === 0 || len < 0) fail(EINVAL);
      if (len === 0) return 0;
      if (!accessOk(buf, len)) fail(EFAULT);
      return block<number>(t, () => () => {});
    case READ_ALL: case READ_CLEAR:
      if (buf === 0 || len < 0) fail(EINVAL);
      if (len > 0 && !accessOk(buf, len)) fail(EFAULT);
      return 0;
    case CONSOLE_LEVEL:
      if (len < 1 || len > 8) fail(EINVAL);
      return 0;
    case CLEAR: case CONSOLE_OFF: case CONSOLE_ON: case SIZE_UNREAD:
      return 0;
    default:
      return LOG_BUF_LEN;
  }
}

export function registerSyslog(table: SyscallTable): void {
  table[SYS_syslog] = { name: 'syslog', handler: sysSyslog, args: ['int', 'ptr', 'int'] };
}
