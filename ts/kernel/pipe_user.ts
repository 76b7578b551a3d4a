// read(2)/write(2) on a pipe or FIFO straight between application memory and the ring's
// pages (the only copy in each direction; it runs in Rust, from or to the memory file's
// mapping). A fault ends the transfer where Linux's copy_page_{to,from}_iter would. A write
// into an empty pipe that a blocked read wants whole skips the ring: one copy, from the
// writer's memory to the reader's (pipe.ts, handOff).

import type { Task } from './task';
import { SyscallError } from './syscall_error';
import { IovCursor, type IOVec } from '../syscalls/linux/user_io';
import { type Pipe, type PipeCaller, type PipeSink, type PipeSource, type HandOffCopy, pipeReadTo, pipeWriteFrom } from './pipe';

/** Bytes copied before a fault (0 for a fault at once) instead of an exception. */
function faultCount(copy: () => number): number {
  try {
    return copy();
  } catch (e) {
    if (e instanceof SyscallError) return 0;
    throw e;
  }
}

/** A read(2)'s buffers. */
class UserSink implements PipeSink {
  constructor(readonly t: Task, readonly cursor: IovCursor) {}

  put(src: Uint8Array): number {
    return faultCount(() => this.cursor.copyOut(this.t, src));
  }
}

/** A write(2)'s buffers. */
class UserSource implements PipeSource {
  constructor(private readonly t: Task, private readonly cursor: IovCursor, private left: number) {}

  get remaining(): number { return this.left; }

  fill(dst: Uint8Array): number {
    const n = faultCount(() => this.cursor.copyIn(this.t, dst));
    this.left -= n;
    return n;
  }

  copyTo(sink: PipeSink, n: number): HandOffCopy | null {
    if (!(sink instanceof UserSink) || !this.t.mm.sameMemoryFile(sink.t.mm)) return null;
    const from = this.cursor.peek(n);
    const to = sink.cursor.peek(n);
    let done = 0;
    let i = 0, j = 0, inFrom = 0, inTo = 0;
    while (done < n && i < from.length && j < to.length) {
      const a = from[i], b = to[j];
      const len = Math.min(a.len - inFrom, b.len - inTo, n - done);
      const r = this.t.mm.copyToUserMemory(sink.t.mm, a.base + inFrom, b.base + inTo, len);
      done += r.done;
      if (r.done < len) return { done, stop: r.stop };
      inFrom += len;
      inTo += len;
      if (inFrom === a.len) { i++; inFrom = 0; }
      if (inTo === b.len) { j++; inTo = 0; }
    }
    return { done, stop: 0 };
  }

  skip(n: number): void {
    this.cursor.advance(n);
    this.left -= n;
  }
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
  return pipeReadTo(t, p, f, new UserSink(t, new IovCursor([...ranges])), totalOf(ranges));
}

export function pipeWriteUser(t: Task, p: Pipe, f: PipeCaller, ranges: Ranges): number | Promise<number> {
  const total = totalOf(ranges);
  return pipeWriteFrom(t, p, f, new UserSource(t, new IovCursor([...ranges]), total));
}
