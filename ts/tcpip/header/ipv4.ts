// IPv4 header (RFC 791): build one, and parse one without ever throwing: anything malformed
// (short, bad version or length, bad header checksum) is null, and the packet is dropped.
// A fragment parses like a whole packet with its offset and more-fragments flag set; the
// stack reassembles it before any transport sees it (../frag/ipv4.ts).

import { finish, sum16 } from '../checksum';

export const IPV4_HEADER = 20;
export const IPV4_MAX_PACKET = 0xffff;

export interface IPv4Packet {
  src: Uint8Array;
  dst: Uint8Array;
  proto: number;
  ttl: number;
  tos: number;
  /** The transport part (a view into the packet). */
  payload: Uint8Array;
  /** Header length in bytes, and the identification, fragment offset (bytes) and MF flag. */
  ihl: number;
  id: number;
  fragOff: number;
  more: boolean;
}

export const IP_DF = 0x4000, IP_MF = 0x2000, IP_OFFSET = 0x1fff;

export function writeIPv4Header(p: Uint8Array, src: Uint8Array, dst: Uint8Array, proto: number, ttl: number, tos: number, id: number): void {
  const len = p.length;
  p[0] = 0x45;
  p[1] = tos;
  p[2] = len >> 8;
  p[3] = len & 0xff;
  p[4] = (id >> 8) & 0xff;
  p[5] = id & 0xff;
  p[6] = 0x40; // DF, as Linux sets on TCP and on path-MTU-discovering UDP
  p[7] = 0;
  p[8] = ttl;
  p[9] = proto;
  p[10] = 0;
  p[11] = 0;
  p.set(src, 12);
  p.set(dst, 16);
  const c = finish(sum16(p, 0, IPV4_HEADER));
  p[10] = c >> 8;
  p[11] = c & 0xff;
}

export function parseIPv4(p: Uint8Array): IPv4Packet | null {
  if (p.length < IPV4_HEADER || p[0] >> 4 !== 4) return null;
  const ihl = (p[0] & 0xf) * 4;
  if (ihl < IPV4_HEADER || ihl > p.length) return null;
  const total = (p[2] << 8) | p[3];
  if (total < ihl || total > p.length) return null;
  if (finish(sum16(p, 0, ihl)) !== 0) return null;
  const frag = (p[6] << 8) | p[7];
  return {
    src: p.subarray(12, 16), dst: p.subarray(16, 20), proto: p[9], ttl: p[8], tos: p[1],
    payload: p.subarray(ihl, total), ihl, id: (p[4] << 8) | p[5], fragOff: (frag & IP_OFFSET) * 8, more: (frag & IP_MF) !== 0,
  };
}
