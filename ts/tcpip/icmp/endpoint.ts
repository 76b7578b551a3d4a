// ICMP sockets' endpoints (Linux net/ipv4/ping.c, net/ipv4/raw.c, net/ipv6/raw.c; gVisor
// tcpip/transport/icmp): ping endpoints, which own an echo identifier and receive the echo
// replies that carry it, and raw endpoints, which receive a copy of every ICMP message of
// their family that reaches the stack (IPv4: with its IP header, as Linux's raw sockets do;
// IPv6: the message alone) less the types their ICMP_FILTER masks. The stack calls
// icmpSocketsInput for each ICMP message before answering it; sockets send through send().

import { POLLIN, POLLOUT } from '../../abi/linux/poll';
import { addrEqual, type IPAddr } from '../addr';
import { finish, pseudoSum, sum16 } from '../checksum';
import { IPPROTO_ICMP, IPPROTO_ICMPV6 } from '../header/icmp';
import { mibOf } from '../mib';
import type { Stack } from '../stack';
import { ErrQueue } from './errqueue';
import { perStack } from '../per_stack';

export const ICMP_ECHOREPLY = 0;
export const ICMP_ECHO = 8;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;
/** What a queued message costs against SO_RCVBUF (data plus an sk_buff's overhead). */
const SKB_OVERHEAD = 768;

export interface IcmpDatagram { data: Uint8Array; from: IPAddr }

export class IcmpEndpoint {
  /** A ping endpoint's echo identifier (its "port"); 0 until bound. */
  ident = 0;
  local: IPAddr | null = null;
  remote: IPAddr | null = null;
  readonly queue: IcmpDatagram[] = [];
  queued = 0;
  rcvBufSize = 212992;
  drops = 0;
  ttl = 64;
  tos = 0;
  /** ICMP_FILTER: bit n set drops type n (IPv4 raw, types below 32). */
  filter = 0;
  /** ICMP6_FILTER: 256 bits, bit set = blocked (IPv6 raw). */
  filter6 = new Uint32Array(8);
  owner: { notify(mask: number): void } | null = null;
  /** sk_err, and the error queue, of a ping socket (errors.ts reports to them). */
  err = 0;
  readonly errQueue = new ErrQueue();

  get connected(): boolean { return this.remote !== null; }

  constructor(readonly stack: Stack, readonly v6: boolean, readonly raw: boolean) {
    registry(stack).add(this);
  }

  deliver(data: Uint8Array, from: IPAddr): void {
    const cost = data.length + SKB_OVERHEAD;
    if (this.queued + cost > this.rcvBufSize && this.queue.length > 0) {
      this.drops++;
      return;
    }
    this.queue.push({ data: data.slice(), from: from.slice() });
    this.queued += cost;
    this.owner?.notify(POLLIN);
  }

  take(peek: boolean): IcmpDatagram | undefined {
    const d = peek ? this.queue[0] : this.queue.shift();
    if (d && !peek) this.queued -= d.data.length + SKB_OVERHEAD;
    return d;
  }

  /** Send the ICMP message msg from src to dst. Ping endpoints put their identifier in it;
   *  the checksum is computed except on an IPv4 raw socket, whose caller owns it. */
  send(src: IPAddr, dst: IPAddr, msg: Uint8Array): void {
    const ipLen = this.stack.ipHeaderLen(this.v6);
    const pkt = new Uint8Array(ipLen + msg.length);
    pkt.set(msg, ipLen);
    const m = pkt.subarray(ipLen);
    if (!this.raw) {
      m[4] = this.ident >> 8;
      m[5] = this.ident & 0xff;
    }
    if (this.v6 || !this.raw) {
      m[2] = 0;
      m[3] = 0;
      const init = this.v6 ? pseudoSum(src, dst, IPPROTO_ICMPV6, m.length) : 0;
      const c = finish(sum16(m, 0, m.length, init));
      m[2] = c >> 8;
      m[3] = c & 0xff;
    }
    const mib = mibOf(this.stack);
    mib.icmpOutMsgs++;
    if (m[0] === (this.v6 ? ICMPV6_ECHO_REQUEST : ICMP_ECHO)) mib.icmpOutEchos++;
    this.stack.sendIP(pkt, src, dst, this.v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, this.ttl, this.tos);
    this.owner?.notify(POLLOUT);
  }

  close(): void {
    registry(this.stack).delete(this);
    this.owner = null;
    this.queue.length = 0;
    this.queued = 0;
    this.errQueue.clear();
  }

  private blocked(type: number): boolean {
    if (this.v6) return (this.filter6[type >> 5] & (1 << (type & 31))) !== 0;
    return type < 32 && (this.filter & (1 << type)) !== 0;
  }

  /** For icmpSocketsInput: offer a message to this endpoint. */
  offer(packet: Uint8Array, m: Uint8Array, src: IPAddr, dst: IPAddr): void {
    if (this.raw) {
      if (this.local && !addrEqual(this.local, dst)) return;
      if (m.length === 0 || !this.blocked(m[0])) this.deliver(this.v6 ? m : packet, src);
      return;
    }
    if (m[0] !== (this.v6 ? ICMPV6_ECHO_REPLY : ICMP_ECHOREPLY) || m.length < 8) return;
    if (((m[4] << 8) | m[5]) !== this.ident) return;
    if (this.local && !addrEqual(this.local, dst)) return;
    this.deliver(m, src);
  }
}

const registry = perStack(() => new Set<IcmpEndpoint>());

export function icmpEndpoints(stack: Stack): ReadonlySet<IcmpEndpoint> { return registry(stack); }

/** Whether a ping identifier is taken (ping_get_port's conflict check). */
export function identInUse(stack: Stack, v6: boolean, ident: number): boolean {
  for (const ep of registry(stack)) if (!ep.raw && ep.v6 === v6 && ep.ident === ident) return true;
  return false;
}

/** An ICMP message (checksum verified) reached the stack: ping sockets and IPv6's raw ones
 *  take their copies (ping_rcv, rawv6_rcv, which checks ICMPv6's sum). packet is the whole
 *  IP packet. IPv4's raw sockets had theirs before any check (icmpRawInput). */
export function icmpSocketsInput(stack: Stack, packet: Uint8Array, m: Uint8Array, src: IPAddr, dst: IPAddr, v6: boolean): void {
  const mib = mibOf(stack);
  if (v6) mib.icmp6InMsgs++;
  else if (m[0] === ICMP_ECHO) mib.icmpInEchos++;
  else if (m[0] === ICMP_ECHOREPLY) mib.icmpInEchoReps++;
  else if (m[0] === 3) mib.icmpInDestUnreachs++;
  const r = registry(stack);
  if (r.size === 0) return;
  for (const ep of r) if (ep.v6 === v6 && (v6 || !ep.raw)) ep.offer(packet, m, src, dst);
}

/** An IPv4 packet of protocol ICMP, checked or not: raw_local_deliver runs before icmp_rcv,
 *  so raw sockets see even a message whose checksum is wrong or that is too short. */
export function icmpRawInput(stack: Stack, packet: Uint8Array, m: Uint8Array, src: IPAddr, dst: IPAddr): void {
  const r = registry(stack);
  if (r.size === 0) return;
  for (const ep of r) if (!ep.v6 && ep.raw) ep.offer(packet, m, src, dst);
}
