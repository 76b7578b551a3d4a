// What message sockets without streams share (raw, ICMP and netlink sockets): one whole
// message per receive, cut to the caller's buffer with MSG_TRUNC (recvmsg reports the
// message's length when asked), and read/write as recvmsg/sendmsg without addresses.

import { MSG_TRUNC } from '../abi/linux/socket';
import type { Task } from '../kernel/task';
import type { RecvResult, SendRequest } from './socket';

/** A received message of data from the sender named `from`, for a buffer of max bytes. */
export function messageResult(data: Uint8Array, from: Uint8Array | null, max: number, flags: number): RecvResult {
  const n = Math.min(max, data.length);
  return {
    n: flags & MSG_TRUNC ? data.length : n, data: data.subarray(0, n), from,
    rights: null, creds: null, flags: data.length > max ? MSG_TRUNC : 0,
  };
}

/** read(2) of a message socket: recv with no flags, the message's bytes that fit. */
export function readMessage(s: { recvmsg(t: Task, max: number, flags: number): RecvResult | Promise<RecvResult> }, t: Task, dst: Uint8Array): number | Promise<number> {
  const fin = (r: RecvResult): number => { dst.set(r.data); return r.data.length; };
  const r = s.recvmsg(t, dst.length, 0);
  return r instanceof Promise ? r.then(fin) : fin(r);
}

/** write(2) of a message socket: one message to its connected peer. */
export function writeMessage<R>(s: { sendmsg(t: Task, req: SendRequest): R }, t: Task, src: Uint8Array): R {
  return s.sendmsg(t, { data: src.slice(), addr: null, rights: null, creds: null, flags: 0 });
}
