// Small helpers every fd-taking syscall uses: look a descriptor up (EBADF if it is not open,
// or if it is O_PATH where the call needs a file for I/O) and read the caller's RLIMIT_NOFILE.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { RLIMIT_NOFILE } from '../../kernel/rlimits';
import { EBADF } from '../../abi/linux/errno';
import { O_PATH } from '../../abi/linux/fcntl';
import { nrOpen } from '../../kernel/nr_open';
import type { FileDescription } from '../../vfs/file_description';
import type { SyscallReturn } from './types';

export function getFile(t: Task, fd: number): FileDescription {
  return t.fdTable.get(fd) ?? fail(EBADF);
}

/** fdget: an O_PATH descriptor is no file for I/O (EBADF before anything else). */
export function ioFile(t: Task, fd: number): FileDescription {
  const f = getFile(t, fd);
  if ((f.flags & O_PATH) !== 0) fail(EBADF);
  return f;
}

/** RLIMIT_NOFILE's soft limit as an fd count; no table grows past fs.nr_open (which may
 *  have been lowered below the limit since it was set). */
export function nofileLimit(t: Task): number {
  const cur = t.tg.rlimits[RLIMIT_NOFILE].cur;
  const max = nrOpen(t.kernel);
  return cur > BigInt(max) ? max : Number(cur);
}

/** fdget/fdput across a wait: a call that blocks holds its own reference on the file, so a
 *  close() of the fd in another thread takes only the table's and the call goes on (a blocked
 *  read still waits for data, shutdown() or its timeout, as on Linux); the file is released
 *  when both are gone. */
export function holding(f: FileDescription, r: SyscallReturn): SyscallReturn {
  if (typeof r !== 'object') return r;
  f.incRef();
  return r.finally(() => f.decRef());
}
