// Where a TCP read's bytes go and where a write's come from (Linux's iov_iter as
// tcp_recvmsg/tcp_sendmsg use it): straight between application memory and the endpoint's
// queues — one copy per direction — or, for the callers that hold a sentry buffer (splice,
// the plain read()/recvmsg() of the Socket interface), into that buffer. A fault ends the
// transfer before the segment (or send chunk) it hit; the caller reports EFAULT only when
// nothing was moved, as Linux does.

import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { IovCursor, type IOVec } from '../../syscalls/linux/user_io';
import type { Fill } from '../../tcpip/tcp/send_queue';

/** A destination for received bytes. put takes what it can of view (all of it, unless it
 *  faulted) and returns how much; a view is valid only during the call. */
export interface RecvSink {
  put(view: Uint8Array): number;
  /** A put came up short because the destination faulted. */
  faulted: boolean;
}

/** A copy that faulted part-way counts as none (Linux copies a segment's data with
 *  copy_to_iter/copy_from_iter_full: a short copy fails whole, and the bytes stay queued or
 *  unsent); it marks the sink faulted so the caller stops there. */
function wholeOrNone(sink: { faulted: boolean }, copy: () => number, want: number): number {
  let n: number;
  try {
    n = copy();
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    n = 0;
  }
  if (n === want) return n;
  sink.faulted = true;
  return 0;
}

/** Into application memory, across the iovecs. */
export function userSink(t: Task, iovs: readonly IOVec[]): RecvSink {
  const cursor = new IovCursor([...iovs]);
  const sink: RecvSink = {
    faulted: false,
    put: (v) => wholeOrNone(sink, () => cursor.copyOut(t, v), v.length),
  };
  return sink;
}

/** Into a sentry buffer. */
export function bufferSink(dst: Uint8Array): RecvSink & { readonly n: number } {
  let at = 0;
  return {
    faulted: false,
    get n() { return at; },
    put(v) { dst.set(v, at); at += v.length; return v.length; },
  };
}

/** Into copies of their own (recvmsg of the Socket interface, which hands back bytes). */
export function copySink(): RecvSink & { result(): Uint8Array } {
  const parts: Uint8Array[] = [];
  let n = 0;
  return {
    faulted: false,
    put(v) { parts.push(v.slice()); n += v.length; return v.length; },
    result() {
      if (parts.length === 1) return parts[0];
      const out = new Uint8Array(n);
      let at = 0;
      for (const p of parts) { out.set(p, at); at += p.length; }
      return out;
    },
  };
}

/** Nowhere: MSG_TRUNC on a stream discards what it reads (tcp_recvmsg skips the copy). */
export function discardSink(): RecvSink {
  return { faulted: false, put: (v) => v.length };
}

/** A source of bytes to send: fill copies the next bytes into a send chunk. */
export interface SendSource {
  readonly length: number;
  fill: Fill;
  faulted: boolean;
}

/** From application memory, across the iovecs. */
export function userSource(t: Task, iovs: readonly IOVec[], length: number): SendSource {
  const cursor = new IovCursor([...iovs]);
  const src: SendSource = {
    length,
    faulted: false,
    fill: (dst) => wholeOrNone(src, () => cursor.copyIn(t, dst), dst.length),
  };
  return src;
}

/** From a sentry buffer. */
export function bufferSource(data: Uint8Array): SendSource {
  let at = 0;
  return {
    length: data.length,
    faulted: false,
    fill(dst) { dst.set(data.subarray(at, at + dst.length)); at += dst.length; return dst.length; },
  };
}
