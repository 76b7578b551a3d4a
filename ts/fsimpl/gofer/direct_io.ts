// Direct I/O on a donated host fd: read(2)/write(2) of a gofer file move data between the
// host fd and the application's pages in one pread/pwrite per range (the addon translates
// the range to memory-file pages, as copy_out does), with no sentry buffer in between.
// Linux's short-count rules: a read stops at the file's end or at the first page it could
// not write (EFAULT if nothing was read); a write stops where the source faults. Files whose
// pages a MAP_SHARED mapping caches (SharedCache) keep the buffered path, so read/write and
// the mapping stay coherent.

import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { throwHostError } from '../../vfs/host_errno';
import { addon } from '../../native/addon';
import { SEEK_END } from '../../abi/linux/fcntl';
import { EFAULT, EINVAL, ENOSYS, ENOTSUP as EOPNOTSUPP, EXDEV } from '../../abi/linux/errno';

export interface UserRange { readonly base: number; readonly len: number }

/** pread from host fd at `at` into the ranges in turn; the bytes read. */
export function preadToUser(t: Task, fd: number, ranges: readonly UserRange[], at: number): number {
  return transfer(ranges, (r, done) => t.mm.preadFromHost(r.base, r.len, fd, at + done, () => hostSize(fd)));
}

/** The host file's size now (lseek SEEK_END: every I/O here is positioned, so the fd's own
 *  offset is nobody's); Infinity if the host cannot say. */
function hostSize(fd: number): number {
  const r = addon().hostLseek(fd, 0, SEEK_END);
  return r < 0 ? Infinity : r;
}

/** pwrite the ranges in turn to host fd at `at`; the bytes written. A source that faults at
 *  its first byte is EFAULT after the host's file system has seen the same write from an
 *  address that faults: what Linux does then is the file system's (generic_perform_write
 *  calls write_begin/write_end with nothing copied; ext4 and tmpfs grow a shorter file to
 *  `at`), and the host's own answer for its own file is the one to match. */
export function pwriteFromUser(t: Task, fd: number, ranges: readonly UserRange[], at: number): number {
  try {
    return transfer(ranges, (r, done) => t.mm.pwriteToHost(r.base, r.len, fd, at + done));
  } catch (e) {
    if (e instanceof SyscallError && e.errno === EFAULT) {
      const len = ranges.find((r) => r.len > 0)?.len ?? 0;
      const r = addon().hostPwriteFaulting(fd, at, len);
      // The host's refusal before the copy (EFBIG, ENOSPC, ...) is the syscall's answer.
      if (r < 0 && r !== -EFAULT) throw new SyscallError(-r);
    }
    throw e;
  }
}

function transfer(ranges: readonly UserRange[], io: (r: UserRange, done: number) => number): number {
  let done = 0;
  for (const r of ranges) {
    if (r.len === 0) continue;
    let n: number;
    try { n = io(r, done); } catch (e) {
      // After some bytes, a fault or host error is the short count (as Linux).
      if (done > 0) return done;
      if (e instanceof SyscallError) throw e;
      throwHostError(e);
    }
    done += n;
    if (n < r.len) break;
  }
  return done;
}

/** copy_file_range/sendfile between two donated host fds, in the host kernel: the bytes
 *  copied (0 at the input's end); undefined when the host will not copy between these two
 *  (another file system: EXDEV; a file system without it), and the caller copies through a
 *  buffer instead. Other host errors are the syscall's. */
export function copyBetweenHostFds(fdIn: number, inAt: number, fdOut: number, outAt: number, len: number): number | undefined {
  const r = addon().hostCopyFileRange(fdIn, inAt, fdOut, outAt, len);
  if (r >= 0) return r;
  if (r === -EXDEV || r === -EINVAL || r === -EOPNOTSUPP || r === -ENOSYS) return undefined;
  throw new SyscallError(-r);
}

