// An open that must wait for something outside the opener (a lease being broken, a host open
// the gofer waits on): EAGAIN to a caller that cannot wait; openPath (sys_open.ts) awaits
// wait(t), interruptibly, and opens again.

import { SyscallError } from '../kernel/syscall_error';
import { EAGAIN } from '../abi/linux/errno';
import type { Task } from '../kernel/task';

export class OpenWait extends SyscallError {
  constructor(readonly wait: (t: Task) => Promise<void>) { super(EAGAIN); }
}
