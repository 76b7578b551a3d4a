// An open that must wait for something outside the opener (a lease being broken, a host open
// the gofer waits on): EAGAIN to a caller that cannot wait; openPath (sys_open.ts) awaits
// wait(t), interruptibly, and opens again.

import { SyscallError } from '../kernel/syscall_error';
import { EAGAIN } from '../abi/linux/errno';
import type { Task } from '../kernel/task';

export class OpenWait extends SyscallError {
  constructor(readonly wait: (t: Task) => Promise<void>) { super(EAGAIN); }

  /** The open that waited has run again (or will not: the task was killed, the retry
   *  failed): what the wait left for it and it did not take is let go. */
  done(): void { /* nothing kept */ }
}

/** Set by openAt just before the file system's open or create: that open (and only it, not
 *  an open made for it, as a copy-up's) may throw OpenWait. Every other caller (execve, the ELF
 *  loader, copy-up) cannot wait asynchronously and gets the host's answer synchronously. */
let allowed = false;

export function allowOpenWait(): void { allowed = true; }

/** Whether this open may throw OpenWait; the permission is used up either way. */
export function takeOpenWait(): boolean {
  const a = allowed;
  allowed = false;
  return a;
}
