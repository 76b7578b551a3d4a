// eventfd, eventfd2 (Linux fs/eventfd.c do_eventfd) over kernel/eventfd.ts.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL } from '../../abi/linux/errno';
import { O_CLOEXEC } from '../../abi/linux/fcntl';
import { SYS_eventfd, SYS_eventfd2 } from '../../abi/linux/syscall_numbers';
import { EFD_NONBLOCK, EFD_SEMAPHORE, EventFd } from '../../kernel/eventfd';
import type { SyscallTable } from './types';
import { nofileLimit } from './fd_util';

const EFD_CLOEXEC = O_CLOEXEC;

function doEventfd(t: Task, initval: number, flags: number): number {
  if ((flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE)) !== 0) fail(EINVAL);
  const f = new EventFd(t, initval, flags, (flags & EFD_SEMAPHORE) !== 0);
  try {
    return t.fdTable.newFD(f, { cloexec: (flags & EFD_CLOEXEC) !== 0, limit: nofileLimit(t) });
  } finally {
    f.decRef();
  }
}

export function registerEventfd(table: SyscallTable): void {
  table[SYS_eventfd] = { name: 'eventfd', handler: (t, a) => doEventfd(t, a.uint(0), 0), args: ['uint'] };
  table[SYS_eventfd2] = { name: 'eventfd2', handler: (t, a) => doEventfd(t, a.uint(0), a.int(1)), args: ['uint', 'hex'] };
}
