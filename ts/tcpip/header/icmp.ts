// ICMP and ICMPv6 destination-unreachable messages (RFC 792, RFC 4443): the stack sends
// "port unreachable" for a UDP datagram nobody receives, quoting the offending packet's
// start, and reads such messages back to fail the sending socket with ECONNREFUSED.
// Parsing never throws; anything short or mis-summed is null.

import { finish, pseudoSum, sum16 } from '../checksum';

export const IPPROTO_ICMP = 1;
export const IPPROTO_ICMPV6 = 58;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_PORT_UNREACH = 3;
export const ICMPV6_DEST_UNREACH = 1;
export const ICMPV6_PORT_UNREACH = 4;
export const ICMP_HEADER = 8;

export interface ICMPMessage { type: number; code: number; quoted: Uint8Array }

/** Fill an ICMP(v6) header at m[0..8] (quoted bytes already after it). v6 needs the
 *  addresses for its pseudo-header. */
export function writeICMP(m: Uint8Array, type: number, code: number, v6: { src: Uint8Array; dst: Uint8Array } | null, info = 0): void {
  // info: the 32-bit word after the checksum (a parameter problem's pointer, an MTU).
  m[0] = type; m[1] = code; m[2] = 0; m[3] = 0;
  m[4] = info >>> 24; m[5] = (info >> 16) & 0xff; m[6] = (info >> 8) & 0xff; m[7] = info & 0xff;
  const init = v6 ? pseudoSum(v6.src, v6.dst, IPPROTO_ICMPV6, m.length) : 0;
  const c = finish(sum16(m, 0, m.length, init));
  m[2] = c >> 8; m[3] = c & 0xff;
}

export function parseICMP(m: Uint8Array, v6: { src: Uint8Array; dst: Uint8Array } | null): ICMPMessage | null {
  if (m.length < ICMP_HEADER) return null;
  const init = v6 ? pseudoSum(v6.src, v6.dst, IPPROTO_ICMPV6, m.length) : 0;
  if (finish(sum16(m, 0, m.length, init)) !== 0) return null;
  return { type: m[0], code: m[1], quoted: m.subarray(ICMP_HEADER) };
}
