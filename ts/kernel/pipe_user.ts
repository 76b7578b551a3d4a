// read(2)/write(2) on a pipe or FIFO straight between application memory and the ring's
// pages (the only copy in each direction; it runs in Rust, from or to the memory file's
// mapping). A fault ends the transfer where Linux's copy_page_{to,from}_iter would.

import type { Task } from './task';
import { SyscallError } from './syscall_error';
import { IovCursor, type IOVec } from '../syscalls/linux/user_io';
import { type Pipe, type PipeCaller, type PipeSink, type PipeSource, pipeReadTo, pipeWriteFrom } from './pipe';

/** Bytes copied before a fault (0 for a fault at once) instead of an exception. */
function faultCount(copy: () => number): number {
  try {
    return copy();
  } catch (e) {
    if (e instanceof SyscallError) return 0;
    throw e;
  }
}

function userSink(t: Task, cursor: IovCursor): PipeSink {
  return { put: (src) => faultCount(() => cursor.copyOut(t, src)) };
}

function userSource(t: Task, cursor: IovCursor, total: number): PipeSource {
  let left = total;
  return {
    get remaining() { return left; },
    fill(dst: Uint8Array): number {
      const n = faultCount(() => cursor.copyIn(t, dst));
      left -= n;
      return n;
    },
  };
}

/** The read/write ranges of FileDescription.readDirect/writeDirect. */
type Ranges = readonly IOVec[];

function totalOf(ranges: Ranges): number {
  let n = 0;
  for (const r of ranges) n += r.len;
  return n;
}

/** read(2) into the ranges (their total is not 0: the syscall layer answered that). */
export function pipeReadUser(t: Task, p: Pipe, f: PipeCaller, ranges: Ranges): number | Promise<number> {
  return pipeReadTo(t, p, f, userSink(t, new IovCursor([...ranges])), totalOf(ranges));
}

export function pipeWriteUser(t: Task, p: Pipe, f: PipeCaller, ranges: Ranges): number | Promise<number> {
  const total = totalOf(ranges);
  return pipeWriteFrom(t, p, f, userSource(t, new IovCursor([...ranges]), total));
}
