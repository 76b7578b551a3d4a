// RLIMIT_FSIZE (Linux generic_write_check_limits, inode_newsize_ok): a regular file may not be
// written or extended past the limit. Writing at or past it fails with EFBIG and sends the
// process SIGXFSZ; a write that straddles it is cut short at the limit.

import type { Task } from './task';
import { fail } from './syscall_error';
import { RLIMIT_FSIZE } from './rlimits';
import { sendSignalToProcess, userSigInfo } from './signals';
import { EFBIG } from '../abi/linux/errno';
import { SIGXFSZ } from '../abi/linux/signal';

/** The soft limit in bytes; Infinity when unlimited (or beyond any file's reach). */
export function fsizeLimit(t: Task): number {
  const cur = t.tg.rlimits[RLIMIT_FSIZE].cur;
  return cur >= 1n << 53n ? Infinity : Number(cur);
}

/** SIGXFSZ to the caller's process (send_sig: SI_USER from the caller), then EFBIG. */
function exceeded(t: Task): never {
  sendSignalToProcess(t.tg, userSigInfo(t, SIGXFSZ));
  return fail(EFBIG);
}

/** How many of count bytes may be written at pos (count > 0). */
export function fsizeWriteCount(t: Task, pos: number, count: number): number {
  const limit = fsizeLimit(t);
  if (limit === Infinity) return count;
  if (pos >= limit) exceeded(t);
  return Math.min(count, limit - pos);
}

/** inode_newsize_ok for truncate/fallocate growing a file from oldSize to newSize. */
export function fsizeNewSizeOk(t: Task, oldSize: number, newSize: number): void {
  if (newSize > oldSize && newSize > fsizeLimit(t)) exceeded(t);
}
