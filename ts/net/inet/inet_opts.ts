// The IP-level socket options (Linux net/ipv4/ip_sockglue.c, net/ipv6/ipv6_sockglue.c) that
// TCP and UDP sockets share: IP_TTL and IP_TOS (stored; they go into the packets we send),
// IPV6_V6ONLY (only before bind), IPV6_UNICAST_HOPS and IPV6_TCLASS, and the flags a program
// may set and read back whose effect is not modelled yet.

import { fail } from '../../kernel/syscall_error';
import { EINVAL, ENOPROTOOPT } from '../../abi/linux/errno';

export const IPPROTO_IP = 0;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;

export const IP_TOS = 1;
export const IP_TTL = 2;
const IP_HDRINCL = 3;
const IP_RECVOPTS = 6;
const IP_PKTINFO = 8;
const IP_MTU_DISCOVER = 10;
const IP_RECVERR = 11;
const IP_RECVTTL = 12;
const IP_RECVTOS = 13;
const IP_MTU = 14;
const IP_FREEBIND = 15;
const IP_BIND_ADDRESS_NO_PORT = 24;

export const IPV6_UNICAST_HOPS = 16;
const IPV6_MTU_DISCOVER = 23;
const IPV6_RECVERR = 25;
export const IPV6_V6ONLY = 26;
const IPV6_RECVPKTINFO = 49;
export const IPV6_DONTFRAG = 62;
const IPV6_RECVHOPLIMIT = 51;
const IPV6_RECVTCLASS = 66;
const IPV6_TCLASS = 67;

const DEFAULT_TTL = 64;
const IP_PMTUDISC_WANT = 1;

/** Options stored per socket; the socket reads ttl, tos and v6only. */
export class InetOpts {
  ttl = -1;
  tos = 0;
  hops = -1;
  tclass = 0;
  v6only = false;
  readonly plain = new Map<string, number>();

  get effectiveTtl(): number { return this.ttl < 0 ? DEFAULT_TTL : this.ttl; }
  get effectiveHops(): number { return this.hops < 0 ? DEFAULT_TTL : this.hops; }
}

const IP_PLAIN: Record<number, number> = {
  [IP_HDRINCL]: 0, [IP_RECVOPTS]: 0, [IP_PKTINFO]: 0, [IP_MTU_DISCOVER]: IP_PMTUDISC_WANT, [IP_RECVERR]: 0,
  [IP_RECVTTL]: 0, [IP_RECVTOS]: 0, [IP_FREEBIND]: 0, [IP_BIND_ADDRESS_NO_PORT]: 0,
};
const IPV6_PLAIN: Record<number, number> = {
  [IPV6_MTU_DISCOVER]: IP_PMTUDISC_WANT, [IPV6_RECVERR]: 0,
  [IPV6_RECVPKTINFO]: 0, [IPV6_RECVHOPLIMIT]: 0, [IPV6_RECVTCLASS]: 0, [IPV6_DONTFRAG]: 0,
};

export function intOf(val: Uint8Array): number {
  // Linux takes a single byte for a few IP options; an int otherwise.
  if (val.length >= 4) return new DataView(val.buffer, val.byteOffset, 4).getInt32(0, true);
  if (val.length >= 1) return val[0];
  fail(EINVAL);
}

export function ints(...xs: number[]): Uint8Array {
  const b = new Uint8Array(xs.length * 4);
  const v = new DataView(b.buffer);
  xs.forEach((x, i) => v.setInt32(i * 4, x, true));
  return b;
}

export function setIpOpt(o: InetOpts, name: number, val: Uint8Array, stream: boolean): void {
  const v = intOf(val);
  switch (name) {
    case IP_TTL:
      if (v !== -1 && (v < 1 || v > 255)) fail(EINVAL);
      o.ttl = v;
      return;
    case IP_TOS:
      // TCP keeps the ECN bits its own (ip_setsockopt's INET_ECN_MASK dance).
      o.tos = stream ? (v & ~3 & 0xff) | (o.tos & 3) : v & 0xff;
      return;
    case IP_MTU: fail(ENOPROTOOPT);
    default:
      if (!(name in IP_PLAIN)) fail(ENOPROTOOPT);
      o.plain.set(`ip${name}`, v);
  }
}

export function getIpOpt(o: InetOpts, name: number): Uint8Array {
  switch (name) {
    case IP_TTL: return ints(o.effectiveTtl);
    case IP_TOS: return ints(o.tos);
    default:
      if (!(name in IP_PLAIN)) fail(ENOPROTOOPT);
      return ints(o.plain.get(`ip${name}`) ?? IP_PLAIN[name]);
  }
}

export function setIpv6Opt(o: InetOpts, name: number, val: Uint8Array, bound: boolean): void {
  if (val.length < 4) fail(EINVAL);
  const v = intOf(val);
  switch (name) {
    case IPV6_V6ONLY:
      if (bound) fail(EINVAL);
      o.v6only = v !== 0;
      return;
    case IPV6_UNICAST_HOPS:
      if (v < -1 || v > 255) fail(EINVAL);
      o.hops = v;
      return;
    case IPV6_TCLASS:
      if (v < -1 || v > 0xff) fail(EINVAL);
      o.tclass = v < 0 ? 0 : v;
      return;
    case IPV6_DONTFRAG:
      o.plain.set(`ip6${name}`, v !== 0 ? 1 : 0);
      return;
    default:
      if (!(name in IPV6_PLAIN)) fail(ENOPROTOOPT);
      o.plain.set(`ip6${name}`, v);
  }
}

export function getIpv6Opt(o: InetOpts, name: number): Uint8Array {
  switch (name) {
    case IPV6_V6ONLY: return ints(o.v6only ? 1 : 0);
    case IPV6_UNICAST_HOPS: return ints(o.effectiveHops);
    case IPV6_TCLASS: return ints(o.tclass);
    default:
      if (!(name in IPV6_PLAIN)) fail(ENOPROTOOPT);
      return ints(o.plain.get(`ip6${name}`) ?? IPV6_PLAIN[name]);
  }
}
