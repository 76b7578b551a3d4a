// A socket's error queue (Linux sk_error_queue, net/core/skbuff.c sock_queue_err_skb and
// sock_dequeue_err_skb): with IP_RECVERR / IPV6_RECVERR an ICMP error for what the socket
// sent is queued here as a record of struct sock_extended_err's fields, the offender and
// the quoted bytes, and read back with recvmsg(MSG_ERRQUEUE) (ts/net/inet/recverr.ts).
// Entries share the receive buffer with the data queue; past it they are dropped.

import type { IPAddr } from '../addr';

export const SO_EE_ORIGIN_NONE = 0;
export const SO_EE_ORIGIN_LOCAL = 1;
export const SO_EE_ORIGIN_ICMP = 2;
export const SO_EE_ORIGIN_ICMP6 = 3;

/** What one queued error costs against SO_RCVBUF (its bytes plus an sk_buff's overhead). */
const SKB_OVERHEAD = 768;

export interface SockExtendedErr {
  errno: number;
  origin: number;
  type: number;
  code: number;
  info: number;
  data: number;
  /** The ICMP message's sender (struct sockaddr after the extended error). */
  offender: IPAddr;
  /** Where the offending packet went (the quoted destination) and its port: msg_name. */
  addr: IPAddr;
  port: number;
  /** The quoted bytes after the transport header: the message's payload. */
  payload: Uint8Array;
}

/** The queue, and the socket options that decide what reaches it. */
export class ErrQueue {
  private readonly q: SockExtendedErr[] = [];
  bytes = 0;
  /** IP_RECVERR (errors about IPv4 packets) and IPV6_RECVERR (about IPv6 ones). */
  recverr4 = false;
  recverr6 = false;
  /** IP_MTU_DISCOVER / IPV6_MTU_DISCOVER is *_INTERFACE or *_OMIT: reports change no route. */
  pmtuIgnore4 = false;
  pmtuIgnore6 = false;
  /** IP_MTU_DISCOVER / IPV6_MTU_DISCOVER set to *_PMTUDISC_DONT: "too big" is no error. */
  pmtuDont4 = false;
  pmtuDont6 = false;

  get length(): number { return this.q.length; }

  /** sock_queue_err_skb: false (dropped) when the receive buffer, shared with rmemQueued, is full. */
  push(e: SockExtendedErr, rmemQueued: number, rcvBuf: number): boolean {
    const cost = e.payload.length + SKB_OVERHEAD;
    if (rmemQueued + this.bytes + cost >= rcvBuf) return false;
    this.q.push({ ...e, payload: e.payload.slice(), offender: e.offender.slice(), addr: e.addr.slice() });
    this.bytes += cost;
    return true;
  }

  /** sock_dequeue_err_skb: the oldest entry, and the socket's pending error after it is taken
   *  (the next entry's errno when that one is an ICMP error, else 0 if this one was). null:
   *  the pending error stays as it is. */
  shift(): { e: SockExtendedErr; nextErr: number | null } | null {
    const e = this.q.shift();
    if (!e) return null;
    this.bytes -= e.payload.length + SKB_OVERHEAD;
    const next = this.q[0];
    const icmp = (x: SockExtendedErr): boolean => x.origin === SO_EE_ORIGIN_ICMP || x.origin === SO_EE_ORIGIN_ICMP6;
    if (next && icmp(next)) return { e, nextErr: next.errno };
    return { e, nextErr: icmp(e) ? 0 : null };
  }

  clear(): void {
    this.q.length = 0;
    this.bytes = 0;
  }

  /** Take other's entries (a socket moving to a fresh endpoint keeps its reports). */
  moveFrom(other: ErrQueue): void {
    this.q.push(...other.q);
    this.bytes += other.bytes;
    other.clear();
  }
}
