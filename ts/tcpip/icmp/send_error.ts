// The stack's own ICMP and ICMPv6 errors about a packet it received or sent (Linux icmp_send,
// icmp6_send): the message quotes the packet's start (up to 576 bytes of IPv4 message, 1280 of
// IPv6) and goes back to the packet's source from the address it was sent to. Never about an
// ICMP error, a fragment other than the first (IPv4), a packet from no one or from a group,
// or one sent to a group or broadcast (the exceptions RFC 4443 allows are not sent here).

import type { IPAddr } from '../addr';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, ICMP_HEADER, writeICMP } from '../header/icmp';
import { IPV4_HEADER, IP_OFFSET } from '../header/ipv4';
import { IPV6_HEADER } from '../header/ipv6';
import { isMulticast } from '../multicast';
import type { Stack } from '../stack';
import { icmpErrorAllowed } from './ratelimit';

/** A quote of pkt in an ICMP(v6) error of type/code/info, ready for sendIP: the IP header's
 *  room, the message and the quote (src/dst: the IPv6 error's own addresses, for its sum). */
export function buildIcmpError(stack: Stack, pkt: Uint8Array, type: number, code: number, info: number, v6: { src: IPAddr; dst: IPAddr } | null): Uint8Array {
  const ipLen = stack.ipHeaderLen(v6 !== null);
  const quote = pkt.subarray(0, Math.min(pkt.length, v6 ? 1232 : 548));
  const out = new Uint8Array(ipLen + ICMP_HEADER + quote.length);
  out.set(quote, ipLen + ICMP_HEADER);
  writeICMP(out.subarray(ipLen), type, code, v6, info);
  return out;
}

/** Informational ICMP types (echo, timestamp, info, mask and their replies). */
const V4_INFO = new Set([0, 8, 13, 14, 15, 16, 17, 18]);

/** icmp_send / icmp6_send about pkt (a whole IP packet that reached us): true when sent. */
export function icmpSendError(stack: Stack, pkt: Uint8Array, type: number, code: number, info = 0): boolean {
  const v6 = pkt.length > 0 && pkt[0] >> 4 === 6;
  if (pkt.length < (v6 ? IPV6_HEADER : IPV4_HEADER)) return false;
  const src = v6 ? pkt.slice(8, 24) : pkt.slice(12, 16);
  const dst = v6 ? pkt.slice(24, 40) : pkt.slice(16, 20);
  if (src.every((b) => b === 0) || isMulticast(src)) return false;
  if (stack.isBroadcastOrMulticast(dst)) return false;
  const tOff = v6 ? IPV6_HEADER : (pkt[0] & 0xf) * 4;
  if (!v6 && (((pkt[6] << 8) | pkt[7]) & IP_OFFSET) !== 0) return false;
  const proto = v6 ? pkt[6] : pkt[9];
  if (proto === (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP) && pkt.length > tOff) {
    const t = pkt[tOff];
    if (v6 ? t < 128 : !V4_INFO.has(t)) return false;
  }
  if (!icmpErrorAllowed(stack, src, type, code)) return false;
  // The error leaves from the address the packet was sent to when it is ours (a group's or a
  // broadcast's answer comes from the route's source).
  const from = stack.isLocalAddress(dst) ? dst : stack.route(src);
  if (!from) return false;
  stack.sendIP(buildIcmpError(stack, pkt, type, code, info, v6 ? { src: from, dst: src } : null), from, src,
    v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, 64, 0);
  return true;
}
