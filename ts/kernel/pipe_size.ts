// Pipe capacity (Linux fs/pipe.c pipe_fcntl, pipe_set_size): F_GETPIPE_SZ and F_SETPIPE_SZ on a
// pipe or FIFO, within pipe_limits.ts's limits; the ring itself is pipe.ts's.

import type { Task } from './task';
import { PipeReadEnd, PipeWriteEnd, type Pipe } from './pipe';
import { FifoFile } from './fifo';
import type { FileDescription } from '../vfs/file_description';
import { fail } from './syscall_error';
import { EINVAL, EPERM } from '../abi/linux/errno';
import { CAP_SYS_RESOURCE } from './capabilities';
import { PAGE_SIZE, pipeMaxSize, roundPipeSize, unprivileged } from './pipe_limits';

/** F_SETPIPE_SZ: the new capacity in bytes. arg is the fcntl argument as an unsigned int. */
export function setPipeSize(t: Task, p: Pipe, arg: number): number {
  const size = roundPipeSize(arg);
  const slots = size / PAGE_SIZE;
  if (slots === 0) fail(EINVAL);
  // Growing past the limit needs CAP_SYS_RESOURCE; shrinking is always allowed.
  if (slots > p.maxSlots && size > pipeMaxSize(t.kernel) && !t.creds.hasCapability(CAP_SYS_RESOURCE)) fail(EPERM);
  const acc = p.account;
  if (acc === null) {
    p.resize(slots);
    return p.maxSlots * PAGE_SIZE;
  }
  const before = acc.slots;
  const total = acc.charge(slots);
  try {
    // More pages than the pipe holds, past either limit, only for the privileged.
    if (slots > before && (acc.tooManyHard(total) || acc.tooManySoft(total)) && unprivileged(t)) fail(EPERM);
    p.resize(slots);
  } catch (e) {
    acc.charge(before);
    throw e;
  }
  return p.maxSlots * PAGE_SIZE;
}

export function getPipeSize(p: Pipe): number {
  return p.maxSlots * PAGE_SIZE;
}

/** get_pipe_info: the pipe behind a pipe end or an open FIFO, else null. */
export function pipeOfFile(f: FileDescription): Pipe | null {
  if (f instanceof PipeReadEnd || f instanceof PipeWriteEnd || f instanceof FifoFile) return f.pipe;
  return null;
}
