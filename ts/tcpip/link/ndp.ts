// IPv6 neighbour discovery (RFC 4861 §4.3, §4.4, §7.2): neighbour solicitations and
// advertisements, the IPv6 side of what ARP does for IPv4. The link answers a solicitation
// for one of its addresses and learns the sender; a neighbour not known yet is solicited at
// its solicited-node multicast group. Messages must come with hop limit 255 (never routed)
// and a good checksum; anything else is not NDP and goes up the stack as before.

import { finish, pseudoSum, sum16 } from '../checksum';
import { parseIPv6, writeIPv6Header, IPV6_HEADER } from '../header/ipv6';
import type { IPAddr } from '../addr';

const IPPROTO_ICMPV6 = 58;
export const ND_NEIGHBOR_SOLICIT = 135;
export const ND_NEIGHBOR_ADVERT = 136;
const ND_OPT_SOURCE_LINKADDR = 1;
const ND_OPT_TARGET_LINKADDR = 2;
const NA_SOLICITED = 0x40;
const NA_OVERRIDE = 0x20;

export interface NdpMessage { type: number; src: IPAddr; target: IPAddr; lladdr: Uint8Array | null }

/** ff02::1:ffXX:XXXX for target. */
export function solicitedNode(target: IPAddr): IPAddr {
  const a = new Uint8Array(16);
  a.set([0xff, 0x02], 0);
  a[11] = 1;
  a[12] = 0xff;
  a.set(target.subarray(13, 16), 13);
  return a;
}

/** 33:33 and the group's low 32 bits (RFC 2464 §7). */
export function multicastMac(group: IPAddr): Uint8Array {
  return new Uint8Array([0x33, 0x33, group[12], group[13], group[14], group[15]]);
}

function build(type: number, flags: number, src: IPAddr, dst: IPAddr, target: IPAddr, optType: number, mac: Uint8Array): Uint8Array {
  const p = new Uint8Array(IPV6_HEADER + 32);
  const m = p.subarray(IPV6_HEADER);
  m[0] = type;
  m[4] = flags;
  m.set(target, 8);
  m[24] = optType;
  m[25] = 1; // option length in units of 8 bytes
  m.set(mac, 26);
  writeIPv6Header(p, src, dst, IPPROTO_ICMPV6, 255, 0);
  const c = finish(sum16(m, 0, m.length, pseudoSum(src, dst, IPPROTO_ICMPV6, m.length)));
  m[2] = c >> 8;
  m[3] = c & 0xff;
  return p;
}

export function buildSolicit(src: IPAddr, target: IPAddr, mac: Uint8Array): Uint8Array {
  return build(ND_NEIGHBOR_SOLICIT, 0, src, solicitedNode(target), target, ND_OPT_SOURCE_LINKADDR, mac);
}

export function buildAdvert(src: IPAddr, dst: IPAddr, target: IPAddr, mac: Uint8Array): Uint8Array {
  return build(ND_NEIGHBOR_ADVERT, NA_SOLICITED | NA_OVERRIDE, src, dst, target, ND_OPT_TARGET_LINKADDR, mac);
}

/** A neighbour solicitation or advertisement in packet p, or null for anything else. */
export function parseNdp(p: Uint8Array): NdpMessage | null {
  const ip = parseIPv6(p);
  if (!ip || ip.proto !== IPPROTO_ICMPV6 || ip.hopLimit !== 255) return null;
  const m = ip.payload;
  if (m.length < 24 || (m[0] !== ND_NEIGHBOR_SOLICIT && m[0] !== ND_NEIGHBOR_ADVERT) || m[1] !== 0) return null;
  if (finish(sum16(m, 0, m.length, pseudoSum(ip.src, ip.dst, IPPROTO_ICMPV6, m.length))) !== 0) return null;
  let lladdr: Uint8Array | null = null;
  for (let off = 24; off + 2 <= m.length;) {
    const len = m[off + 1] * 8;
    if (len === 0 || off + len > m.length) return null;
    const want = m[0] === ND_NEIGHBOR_SOLICIT ? ND_OPT_SOURCE_LINKADDR : ND_OPT_TARGET_LINKADDR;
    if (m[off] === want && len >= 8) lladdr = m.slice(off + 2, off + 8);
    off += len;
  }
  return { type: m[0], src: ip.src.slice(), target: m.slice(8, 24), lladdr };
}
