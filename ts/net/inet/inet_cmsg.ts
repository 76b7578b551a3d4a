// Control messages of a UDP socket on the sandbox's stack, both ways. Receiving (udp_recvmsg,
// udpv6_recvmsg): SO_TIMESTAMP(NS) first (sock_recv_cmsgs), then for an IPv4 datagram
// IPV6_PKTINFO (v4-mapped, on an AF_INET6 socket) and IP_PKTINFO, IP_TTL, IP_TOS
// (ip_cmsg_recv_offset's order); for an IPv6 one IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS
// (ip6_datagram_recv_ctl). Sending: ip_cmsg_send (IP_PKTINFO's source, IP_TTL, IP_TOS as an
// int or a byte) for an IPv4 destination and ip6_datagram_send_ctl (IPV6_PKTINFO,
// IPV6_HOPLIMIT, IPV6_TCLASS, IPV6_DONTFRAG, IPV6_FLOWINFO) for an IPv6 one, each value
// checked as Linux checks it; messages of other levels are skipped, SOL_SOCKET's were
// checked by the socket layer.

import { fail } from '../../kernel/syscall_error';
import { EINVAL, ENODEV } from '../../abi/linux/errno';
import { CMSGHDR_SIZE, SOL_SOCKET, cmsgLen } from '../../abi/linux/socket';
import { isAny, isV4Mapped, mapV4, unmap, type IPAddr } from '../../tcpip/addr';
import type { Datagram } from '../../tcpip/udp/endpoint';
import type { Stack } from '../../tcpip/stack';
import { walkControl, type Cmsg } from '../control';
import type { SockOpts } from '../sockopt';
import { IPPROTO_IP, IPPROTO_IPV6, IP_TOS, IP_TTL, type InetOpts } from './inet_opts';

const IP_PKTINFO = 8;
const IP_RECVTTL = 12;
const IP_RECVTOS = 13;
const IP_RETOPTS = 7;
const IP_PROTOCOL = 52;
const IPV6_2292PKTINFO = 2;
const IPV6_2292HOPLIMIT = 8;
const IPV6_FLOWINFO = 11;
const IPV6_PKTINFO = 50;
const IPV6_RECVPKTINFO = 49;
const IPV6_RECVHOPLIMIT = 51;
const IPV6_HOPLIMIT = 52;
const IPV6_DONTFRAG = 62;
const IPV6_RECVTCLASS = 66;
const IPV6_TCLASS = 67;
/** The flow label bits of sin6_flowinfo / IPV6_FLOWINFO (network order, as stored). */
const IPV6_FLOWLABEL_MASK = 0xffff0f00;
/** SO_TIMESTAMP_OLD, SO_TIMESTAMPNS_OLD, SO_TIMESTAMP_NEW, SO_TIMESTAMPNS_NEW. */
const SCM_TIMESTAMP = 29, SCM_TIMESTAMPNS = 35, SCM_TIMESTAMP_NEW = 63, SCM_TIMESTAMPNS_NEW = 64;

function int32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

/** A timeval (usec) or timespec (ns) of a realtime in ns: two 64-bit fields. */
export function timeBytes(ns: bigint, nsec: boolean): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, ns / 1_000_000_000n, true);
  v.setBigInt64(8, nsec ? ns % 1_000_000_000n : (ns % 1_000_000_000n) / 1000n, true);
  return b;
}

/** The SOL_SOCKET type of a receive timestamp under SO_TIMESTAMP(NS)(_NEW). */
export function timestampType(ts: SockOpts['tstamp']): number {
  return ts.neu ? (ts.ns ? SCM_TIMESTAMPNS_NEW : SCM_TIMESTAMP_NEW) : ts.ns ? SCM_TIMESTAMPNS : SCM_TIMESTAMP;
}

/** The receive control messages a datagram gets; at is its arrival as a realtime in ns. */
export function udpRecvCmsgs(opts: SockOpts, inet: InetOpts, v6socket: boolean, d: Pick<Datagram, 'to' | 'ifindex' | 'ttl' | 'tos'>, at: bigint): Cmsg[] {
  const out: Cmsg[] = [];
  const ts = opts.tstamp;
  if (ts.on) out.push({ level: SOL_SOCKET, type: timestampType(ts), data: timeBytes(at, ts.ns) });
  const ip = (name: number): boolean => (inet.plain.get(`ip${name}`) ?? 0) !== 0;
  const ip6 = (name: number): boolean => v6socket && (inet.plain.get(`ip6${name}`) ?? 0) !== 0;
  if (ip6(IPV6_RECVPKTINFO)) {
    const info = new Uint8Array(20);
    info.set(d.to.length === 4 ? mapV4(d.to) : d.to, 0);
    new DataView(info.buffer).setInt32(16, d.ifindex, true);
    out.push({ level: IPPROTO_IPV6, type: IPV6_PKTINFO, data: info });
  }
  if (d.to.length === 4) {
    if (ip(IP_PKTINFO)) {
      // in_pktinfo: ifindex, spec_dst (the local address that answers), addr (the header's).
      const info = new Uint8Array(12);
      new DataView(info.buffer).setInt32(0, d.ifindex, true);
      info.set(d.to, 4);
      info.set(d.to, 8);
      out.push({ level: IPPROTO_IP, type: IP_PKTINFO, data: info });
    }
    if (ip(IP_RECVTTL)) out.push({ level: IPPROTO_IP, type: IP_TTL, data: int32(d.ttl) });
    if (ip(IP_RECVTOS)) out.push({ level: IPPROTO_IP, type: IP_TOS, data: Uint8Array.of(d.tos) });
  } else {
    if (ip6(IPV6_RECVHOPLIMIT)) out.push({ level: IPPROTO_IPV6, type: IPV6_HOPLIMIT, data: int32(d.ttl) });
    if (ip6(IPV6_RECVTCLASS)) out.push({ level: IPPROTO_IPV6, type: IPV6_TCLASS, data: int32(d.tos) });
  }
  return out;
}

/** What a sendmsg's control messages ask of one datagram (undefined: the socket's own). */
export interface SendCmsgs { src?: IPAddr; ttl?: number; tos?: number; dontfrag?: boolean }

/** Parse the IP-level (dst IPv4) or IPv6-level (dst IPv6) messages of a UDP sendmsg. */
export function udpSendCmsgs(stack: Stack, control: Uint8Array, dst: IPAddr): SendCmsgs {
  const out: SendCmsgs = {};
  const v = new DataView(control.buffer, control.byteOffset, control.byteLength);
  const v4 = dst.length === 4;
  walkControl(control, (off, len, level, type) => {
    const data = off + CMSGHDR_SIZE;
    const int = (): number => v.getInt32(data, true);
    // An int message whose value must lie in [lo, hi] (EINVAL for another size or value).
    const ranged = (lo: number, hi: number): number => {
      if (len !== cmsgLen(4)) fail(EINVAL);
      const x = int();
      if (x < lo || x > hi) fail(EINVAL);
      return x;
    };
    if (v4 && level === IPPROTO_IP) {
      switch (type) {
        case IP_PKTINFO: {
          if (len !== cmsgLen(12)) fail(EINVAL);
          const ifindex = int();
          if (ifindex !== 0 && stack.nicByIndex(ifindex) === null) fail(ENODEV);
          const spec = control.slice(data + 4, data + 8);
          if (!isAny(spec)) {
            // ip_route_output_key: a source must be one of ours.
            if (!stack.isLocalAddress(spec)) fail(EINVAL);
            out.src = spec;
          }
          return;
        }
        case IP_TTL: out.ttl = ranged(1, 255); return;
        case IP_TOS: {
          let tos: number;
          if (len === cmsgLen(4)) tos = int();
          else if (len === cmsgLen(1)) tos = control[data];
          else fail(EINVAL);
          if (tos < 0 || tos > 255) fail(EINVAL);
          out.tos = tos;
          return;
        }
        case IP_PROTOCOL: ranged(1, 255); return;
        case IP_RETOPTS: {
          // ip_options_get: at most 40 bytes of options; a UDP socket sends none of ours.
          if (len - CMSGHDR_SIZE > 40) fail(EINVAL);
          return;
        }
        default: fail(EINVAL);
      }
    }
    if (!v4 && level === IPPROTO_IPV6) {
      switch (type) {
        case IPV6_PKTINFO: case IPV6_2292PKTINFO: {
          if (len < cmsgLen(20)) fail(EINVAL);
          const ifindex = v.getInt32(data + 16, true);
          if (ifindex !== 0 && stack.nicByIndex(ifindex) === null) fail(ENODEV);
          const a = control.slice(data, data + 16);
          if (!isAny(a)) {
            // ipv6_chk_addr: the source must be an address of this host.
            const local = isV4Mapped(a) ? unmap(a) : a;
            if (!stack.isLocalAddress(local) || local.length !== 16) fail(EINVAL);
            out.src = a;
          }
          return;
        }
        case IPV6_HOPLIMIT: case IPV6_2292HOPLIMIT: {
          const h = ranged(-1, 0xff);
          if (h >= 0) out.ttl = h;
          return;
        }
        case IPV6_TCLASS: {
          const tc = ranged(-1, 0xff);
          if (tc >= 0) out.tos = tc;
          return;
        }
        case IPV6_DONTFRAG: {
          out.dontfrag = ranged(0, 1) === 1;
          return;
        }
        case IPV6_FLOWINFO: {
          // No flow label was leased (IPV6_FLOWLABEL_MGR): only a zero label passes.
          if (len < cmsgLen(4)) fail(EINVAL);
          if ((v.getUint32(data, true) & IPV6_FLOWLABEL_MASK) !== 0) fail(EINVAL);
          return;
        }
        default: fail(EINVAL);
      }
    }
  });
  return out;
}
