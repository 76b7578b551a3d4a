// Pipe capacity (Linux fs/pipe.c pipe_fcntl, round_pipe_size, pipe_set_size): F_GETPIPE_SZ and
// F_SETPIPE_SZ on a pipe or FIFO, and /proc/sys/fs/pipe-max-size, the most an unprivileged
// caller may ask for. Owns the limit (one per sandbox kernel); the ring itself is pipe.ts's.

import type { Task } from './task';
import type { Kernel } from './kernel';
import { PipeReadEnd, PipeWriteEnd, type Pipe } from './pipe';
import { FifoFile } from './fifo';
import type { FileDescription } from '../vfs/file_description';
import { fail } from './syscall_error';
import { EINVAL, EPERM } from '../abi/linux/errno';
import { CAP_SYS_RESOURCE } from './capabilities';

const PAGE_SIZE = 4096;
const DEFAULT_PIPE_MAX_SIZE = 1 << 20;

const maxSizes = new WeakMap<Kernel, number>();

/** round_pipe_size: a power of two of at least a page; 0 (invalid) past 2^31. */
export function roundPipeSize(size: number): number {
  if (size > 2 ** 31) return 0;
  if (size < PAGE_SIZE) return PAGE_SIZE;
  return 2 ** Math.ceil(Math.log2(size));
}

export function pipeMaxSize(k: Kernel): number {
  return maxSizes.get(k) ?? DEFAULT_PIPE_MAX_SIZE;
}

/** A write to /proc/sys/fs/pipe-max-size (proc_dopipe_max_size): an unsigned decimal, kept
 *  rounded as round_pipe_size rounds it. */
export function setPipeMaxSize(k: Kernel, text: string): void {
  const s = text.trim();
  if (!/^\+?\d+$/.test(s)) fail(EINVAL);
  const v = Number(s);
  if (v > 0xffffffff) fail(EINVAL);
  const r = roundPipeSize(v);
  if (r === 0) fail(EINVAL);
  maxSizes.set(k, r);
}

/** F_SETPIPE_SZ: the new capacity in bytes. arg is the fcntl argument as an unsigned int. */
export function setPipeSize(t: Task, p: Pipe, arg: number): number {
  const size = roundPipeSize(arg);
  const slots = size / PAGE_SIZE;
  if (slots === 0) fail(EINVAL);
  // Growing past the limit needs CAP_SYS_RESOURCE; shrinking is always allowed.
  if (slots > p.maxSlots && size > pipeMaxSize(t.kernel) && !t.creds.hasCapability(CAP_SYS_RESOURCE)) fail(EPERM);
  p.resize(slots);
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
