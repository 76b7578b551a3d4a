// ICMP and ICMPv6 errors for the stack's own endpoints (Linux icmp_unreach/icmp_socket_deliver,
// icmpv6_notify, icmp_err_convert, icmpv6_err_convert; tcp_v4_err, __udp4_lib_err, ping_err
// and their v6 twins). An error quotes the start of a packet we sent; the quote names the
// endpoint (its addresses and ports, or a ping identifier) and, for TCP, a sequence number
// that must lie in [snd.una, snd.nxt] — so a forged message (RFC 5927) reaches nobody unless
// it guesses the 4-tuple and the window. Also here: the "host unreachable" the stack sends to
// itself when ARP or neighbour discovery gives up on a next hop (arp_error_report →
// icmp_send), so a connect to a silent neighbour fails with EHOSTUNREACH as on Linux.
// What a socket does with the error (hard, soft, queued) is decided in tcp/icmp_err.ts and
// in reportDatagram below; nothing here throws on a malformed message.

import {
  EACCES, ECONNREFUSED, EHOSTDOWN, EHOSTUNREACH, EMSGSIZE, ENETUNREACH, ENONET, ENOPROTOOPT, ENOTSUP as EOPNOTSUPP, EPROTO,
  EREMOTEIO,
} from '../../abi/linux/errno';
import { POLLERR } from '../../abi/linux/poll';
import { addrKey, type IPAddr } from '../addr';
import { IPV4_HEADER } from '../header/ipv4';
import { IPV6_HEADER } from '../header/ipv6';
import { IPPROTO_TCP } from '../header/tcp';
import { IPPROTO_UDP } from '../header/udp';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, ICMP_HEADER } from '../header/icmp';
import { mibOf } from '../mib';
import { learnPmtu } from '../pmtu';
import type { Stack } from '../stack';
import { tcpIcmpError, type TcpIcmp } from '../tcp/icmp_err';
import { SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6, type ErrQueue, type SockExtendedErr } from './errqueue';
import { ICMPV6_ECHO_REQUEST, ICMP_ECHO, icmpEndpoints } from './endpoint';
import { buildIcmpError } from './send_error';

// ICMP types and destination-unreachable codes (include/uapi/linux/icmp.h, icmpv6.h).
export const ICMP_DEST_UNREACH = 3;
export const ICMP_SOURCE_QUENCH = 4;
export const ICMP_REDIRECT = 5;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAMETERPROB = 12;
export const ICMP_NET_UNREACH = 0;
export const ICMP_HOST_UNREACH = 1;
export const ICMP_FRAG_NEEDED = 4;
const NR_ICMP_UNREACH = 15;
export const ICMPV6_DEST_UNREACH = 1;
export const ICMPV6_PKT_TOOBIG = 2;
export const ICMPV6_TIME_EXCEED = 3;
export const ICMPV6_PARAMPROB = 4;
export const ICMPV6_ADDR_UNREACH = 3;

/** icmp_err_convert: errno and whether it is fatal (hard), by unreachable code 0..15. */
const V4_UNREACH: [number, boolean][] = [
  [ENETUNREACH, false], [EHOSTUNREACH, false], [ENOPROTOOPT, true], [ECONNREFUSED, true], [EMSGSIZE, false],
  [EOPNOTSUPP, false], [ENETUNREACH, true], [EHOSTDOWN, true], [ENONET, true], [ENETUNREACH, true],
  [EHOSTUNREACH, true], [ENETUNREACH, false], [EHOSTUNREACH, false], [EHOSTUNREACH, true], [EHOSTUNREACH, true],
  [EHOSTUNREACH, true],
];

/** icmpv6_err_convert's tab_unreach. */
const V6_UNREACH: [number, boolean][] = [
  [ENETUNREACH, false], [EACCES, true], [EHOSTUNREACH, false], [EHOSTUNREACH, false], [ECONNREFUSED, true],
  [EACCES, true], [EACCES, true],
];

/** An ICMP(v6) error as the transports see it. */
export interface IcmpError {
  v6: boolean;
  type: number;
  code: number;
  /** The MTU (frag needed, packet too big), the pointer (parameter problem), else 0. */
  info: number;
  /** Who sent the message. */
  offender: IPAddr;
  /** The quoted packet's addresses and transport protocol, and the quoted transport bytes. */
  src: IPAddr;
  dst: IPAddr;
  proto: number;
  transport: Uint8Array;
}

/** Parse an error message m (checksum already verified) from offender; null: not an error
 *  the transports hear of (echo, redirect, a quote too short to name an endpoint...). */
export function parseIcmpError(m: Uint8Array, offender: IPAddr, v6: boolean): IcmpError | null {
  if (m.length < ICMP_HEADER) return null;
  const type = m[0];
  const code = m[1];
  const rest = ((m[4] << 24) | (m[5] << 16) | (m[6] << 8) | m[7]) >>> 0;
  const q = m.subarray(ICMP_HEADER);
  let info = 0;
  if (!v6) {
    switch (type) {
      case ICMP_DEST_UNREACH:
        if (code > NR_ICMP_UNREACH) return null;
        if (code === ICMP_FRAG_NEEDED) info = rest & 0xffff;
        break;
      case ICMP_PARAMETERPROB: info = rest >>> 24; break;
      case ICMP_SOURCE_QUENCH: case ICMP_TIME_EXCEEDED: break;
      default: return null;
    }
    // icmp_unreach / icmp_socket_deliver: an IPv4 header of ihl >= 5 and 8 bytes past it.
    if (q.length < IPV4_HEADER || q[0] >> 4 !== 4) return null;
    const ihl = (q[0] & 0xf) * 4;
    if (ihl < IPV4_HEADER || q.length < ihl + 8) return null;
    return { v6, type, code, info, offender: offender.slice(), src: q.slice(12, 16), dst: q.slice(16, 20), proto: q[9], transport: q.subarray(ihl) };
  }
  switch (type) {
    case ICMPV6_DEST_UNREACH: case ICMPV6_TIME_EXCEED: break;
    case ICMPV6_PKT_TOOBIG: case ICMPV6_PARAMPROB: info = rest; break;
    default: return null;
  }
  // icmpv6_notify: the quoted header and 8 bytes of its transport (no extension headers here).
  if (q.length < IPV6_HEADER + 8 || q[0] >> 4 !== 6) return null;
  return { v6, type, code, info, offender: offender.slice(), src: q.slice(8, 24), dst: q.slice(24, 40), proto: q[6], transport: q.subarray(IPV6_HEADER) };
}

/** The errno and hardness for UDP and ping sockets (__udp4_lib_err, ping_err, icmpv6_err_convert);
 *  null: ignored. pmtuDont: the socket set IP_PMTUDISC_DONT. ping: ping_err's extra reports. */
export function datagramErr(e: IcmpError, pmtuDont: boolean, ping: boolean): { err: number; hard: boolean } | null {
  if (e.v6) {
    let err = EPROTO;
    let hard = false;
    switch (e.type) {
      case ICMPV6_DEST_UNREACH:
        [err, hard] = V6_UNREACH[e.code] ?? [EPROTO, true];
        break;
      case ICMPV6_PKT_TOOBIG: err = EMSGSIZE; hard = !pmtuDont; break;
      case ICMPV6_PARAMPROB: err = EPROTO; hard = true; break;
      case ICMPV6_TIME_EXCEED: err = EHOSTUNREACH; break;
    }
    return { err, hard };
  }
  switch (e.type) {
    case ICMP_SOURCE_QUENCH: return ping ? { err: EREMOTEIO, hard: false } : null;
    case ICMP_PARAMETERPROB: return { err: EPROTO, hard: true };
    case ICMP_DEST_UNREACH: {
      if (e.code === ICMP_FRAG_NEEDED) return pmtuDont ? null : { err: EMSGSIZE, hard: true };
      const [err, hard] = V4_UNREACH[e.code];
      return { err, hard };
    }
    default: return { err: EHOSTUNREACH, hard: false };
  }
}

/** The TCP view (tcp_v4_err / tcp_v6_err): null when TCP ignores the message. */
function tcpErr(e: IcmpError, seq: number, dport: number): TcpIcmp | null {
  const r = (err: number, pmtu: number | null, reqAbort: boolean): TcpIcmp =>
    ({ seq, err, pmtu, reqAbort, report: extendedErr(e, err, dport, 0), v6: e.v6 });
  if (e.v6) {
    if (e.type === ICMPV6_PKT_TOOBIG) return r(EMSGSIZE, e.info, false);
    const d = datagramErr(e, false, false);
    if (!d) return null;
    return r(d.err, null, d.hard);
  }
  switch (e.type) {
    case ICMP_PARAMETERPROB: return r(EPROTO, null, true);
    case ICMP_TIME_EXCEEDED: return r(EHOSTUNREACH, null, true);
    case ICMP_DEST_UNREACH:
      if (e.code === ICMP_FRAG_NEEDED) return r(EMSGSIZE, e.info, false);
      return r(V4_UNREACH[e.code][0], null, e.code === ICMP_NET_UNREACH || e.code === ICMP_HOST_UNREACH);
    default: return null;
  }
}

/** The record an error queue keeps (ip_icmp_error / ipv6_icmp_error): payload is what
 *  follows the quoted transport header (hdrLen bytes of it). */
export function extendedErr(e: IcmpError, err: number, port: number, hdrLen: number): SockExtendedErr {
  return {
    errno: err, origin: e.v6 ? SO_EE_ORIGIN_ICMP6 : SO_EE_ORIGIN_ICMP, type: e.type, code: e.code, info: e.info, data: 0,
    offender: e.offender, addr: e.dst, port, payload: e.transport.subarray(Math.min(hdrLen, e.transport.length)),
  };
}

/** What a UDP or ping endpoint needs for an error report. */
export interface DatagramErrTarget {
  err: number;
  readonly errQueue: ErrQueue;
  /** Connected (TCP_ESTABLISHED for a datagram socket). */
  readonly connected: boolean;
  readonly queued: number;
  readonly rcvBufSize: number;
  owner: { notify(mask: number): void } | null;
}

/** __udp4_lib_err's tail: queue the report under RECVERR; set the pending error when the
 *  socket asked for reports or the error is hard and the socket connected. */
export function reportDatagram(ep: DatagramErrTarget, e: IcmpError, d: { err: number; hard: boolean }, port: number, hdrLen: number): void {
  if (!(e.v6 ? ep.errQueue.recverr6 : ep.errQueue.recverr4)) {
    if (!d.hard || !ep.connected) return;
  } else {
    ep.errQueue.push(extendedErr(e, d.err, port, hdrLen), ep.queued, ep.rcvBufSize);
  }
  ep.err = d.err;
  ep.owner?.notify(POLLERR);
}

/** An ICMP error reached the stack (after raw sockets saw it): hand it to the endpoint its
 *  quote names. */
export function icmpErrorInput(stack: Stack, m: Uint8Array, offender: IPAddr, v6: boolean): void {
  const e = parseIcmpError(m, offender, v6);
  if (!e) return;
  const t = e.transport;
  const sport = (t[0] << 8) | t[1];
  const dport = (t[2] << 8) | t[3];
  switch (e.proto) {
    case IPPROTO_TCP: {
      const ep = stack.findConn(e.src, sport, e.dst, dport);
      if (!ep) return;
      const r = tcpErr(e, ((t[4] << 24) | (t[5] << 16) | (t[6] << 8) | t[7]) >>> 0, dport);
      if (r?.pmtu) learnPmtu(stack, e.dst, r.pmtu);
      if (r) tcpIcmpError(ep, r);
      return;
    }
    case IPPROTO_UDP: {
      // __udp4_lib_lookup as for a datagram from (dst, dport) to (src, sport).
      let wild = null;
      let hit = null;
      for (const ep of stack.udpPorts.lookup(sport, e.src)) {
        if (ep.remote === null) { wild ??= ep; continue; }
        if (ep.rport === dport && addrKey(ep.remote) === addrKey(e.dst)) { hit = ep; break; }
      }
      const ep = hit ?? wild;
      if (!ep) return;
      if (isTooBig(e) && !(e.v6 ? ep.errQueue.pmtuIgnore6 : ep.errQueue.pmtuIgnore4)) learnPmtu(stack, e.dst, e.info);
      const d = datagramErr(e, e.v6 ? ep.errQueue.pmtuDont6 : ep.errQueue.pmtuDont4, false);
      if (d) reportDatagram(ep, e, d, dport, 8);
      return;
    }
    case IPPROTO_ICMP: case IPPROTO_ICMPV6: {
      // ping_err: the quote is one of our echo requests; its identifier names the socket.
      if ((e.proto === IPPROTO_ICMPV6) !== v6) return;
      if (t[0] !== (v6 ? ICMPV6_ECHO_REQUEST : ICMP_ECHO) || t[1] !== 0) return;
      const ident = (t[4] << 8) | t[5];
      for (const ep of icmpEndpoints(stack)) {
        if (ep.raw || ep.v6 !== v6 || ep.ident !== ident) continue;
        if (ep.local && addrKey(ep.local) !== addrKey(e.src)) continue;
        if (isTooBig(e) && !(v6 ? ep.errQueue.pmtuIgnore6 : ep.errQueue.pmtuIgnore4)) learnPmtu(stack, e.dst, e.info);
        const d = datagramErr(e, v6 ? ep.errQueue.pmtuDont6 : ep.errQueue.pmtuDont4, true);
        if (d) reportDatagram(ep, e, d, 0, 0);
        return;
      }
      return;
    }
  }
}

/** A "fragmentation needed" (ICMP) or "packet too big" (ICMPv6) report: info is the MTU. */
function isTooBig(e: IcmpError): boolean {
  return e.v6 ? e.type === ICMPV6_PKT_TOOBIG : e.type === ICMP_DEST_UNREACH && e.code === ICMP_FRAG_NEEDED;
}

function isIcmpError(type: number, v6: boolean): boolean {
  return v6 ? type < 128 : [ICMP_DEST_UNREACH, ICMP_SOURCE_QUENCH, ICMP_REDIRECT, ICMP_TIME_EXCEEDED, ICMP_PARAMETERPROB].includes(type);
}

/** arp_error_report / ndisc_error_report: pkt (one of ours) found no link-layer address, so
 *  the stack tells its sender "host unreachable" as icmp_send would, through lo. */
export function linkFailure(stack: Stack, pkt: Uint8Array): void {
  const v6 = pkt.length > 0 && pkt[0] >> 4 === 6;
  if (pkt.length < (v6 ? IPV6_HEADER : IPV4_HEADER)) return;
  const src = v6 ? pkt.slice(8, 24) : pkt.slice(12, 16);
  // An ICMP error is never sent about an ICMP error (RFC 1122 3.2.2).
  const proto = v6 ? pkt[6] : pkt[9];
  const tOff = v6 ? IPV6_HEADER : (pkt[0] & 0xf) * 4;
  if (proto === (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP) && pkt.length > tOff && isIcmpError(pkt[tOff], v6)) return;
  if (!stack.isLocalAddress(src)) return;
  const out = v6 ? buildIcmpError(stack, pkt, ICMPV6_DEST_UNREACH, ICMPV6_ADDR_UNREACH, 0, { src, dst: src })
    : buildIcmpError(stack, pkt, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0, null);
  const mib = mibOf(stack);
  mib.icmpOutMsgs++;
  mib.icmpOutDestUnreachs++;
  stack.sendIP(out, src, src, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, 64, 0);
  stack.flush();
}
