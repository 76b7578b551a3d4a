// pipe, pipe2 (Linux fs/pipe.c do_pipe2): two fds over one kernel/pipe.ts pipe. If the fd
// pair cannot be written back, neither fd stays open.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, ENOPKG } from '../../abi/linux/errno';
import { O_CLOEXEC, O_DIRECT, O_NONBLOCK } from '../../abi/linux/fcntl';
import { SYS_pipe, SYS_pipe2 } from '../../abi/linux/syscall_numbers';
import { newPipe } from '../../kernel/pipe';
import type { SyscallArgs, SyscallTable } from './types';
import { nofileLimit } from './fd_util';

/** O_NOTIFICATION_PIPE (O_EXCL): pipe2's request for a watch-queue pipe. */
const O_NOTIFICATION_PIPE = 0o200;

function doPipe(t: Task, addr: number, flags: number): number {
  if ((flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT | O_NOTIFICATION_PIPE)) !== 0) fail(EINVAL);
  // A notification pipe needs watch queues, which this kernel has not: ENOPKG, as Linux
  // built without CONFIG_WATCH_QUEUE says.
  if (flags & O_NOTIFICATION_PIPE) fail(ENOPKG);
  const { r, w } = newPipe(t, flags);
  const opts = { cloexec: (flags & O_CLOEXEC) !== 0, limit: nofileLimit(t) };
  let rfd = -1;
  try {
    rfd = t.fdTable.newFD(r, opts);
    const wfd = t.fdTable.newFD(w, opts);
    try {
      const b = new Uint8Array(8);
      const v = new DataView(b.buffer);
      v.setInt32(0, rfd, true);
      v.setInt32(4, wfd, true);
      t.mm.copyOut(addr, b);
    } catch (e) {
      t.fdTable.remove(wfd)?.decRef();
      throw e;
    }
  } catch (e) {
    if (rfd >= 0) t.fdTable.remove(rfd)?.decRef();
    throw e;
  } finally {
    // The table holds its own references now (or nothing does).
    r.decRef();
    w.decRef();
  }
  return 0;
}

export function registerPipe(table: SyscallTable): void {
  table[SYS_pipe] = { name: 'pipe', handler: (t, a: SyscallArgs) => doPipe(t, a.ptr(0), 0), args: ['outptr'] };
  table[SYS_pipe2] = { name: 'pipe2', handler: (t, a: SyscallArgs) => doPipe(t, a.ptr(0), a.int(1)), args: ['outptr', 'hex'] };
}
