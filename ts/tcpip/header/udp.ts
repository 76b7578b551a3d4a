// UDP header (RFC 768): build with its checksum over the pseudo-header, parse without
// throwing. A zero checksum means "none" over IPv4 and is invalid over IPv6 (RFC 8200 §8.1).

import { finish, pseudoSum, sum16 } from '../checksum';

export const UDP_HEADER = 8;
export const IPPROTO_UDP = 17;

export interface UDPDatagram { srcPort: number; dstPort: number; data: Uint8Array }

/** Fill the UDP header of u (header + data already in place) and, unless csum is false (the
 *  stack offloads it: header/offload.ts), its checksum. */
export function writeUDP(u: Uint8Array, src: Uint8Array, dst: Uint8Array, sport: number, dport: number, csum = true): void {
  const len = u.length;
  u[0] = sport >> 8; u[1] = sport & 0xff;
  u[2] = dport >> 8; u[3] = dport & 0xff;
  u[4] = (len >> 8) & 0xff; u[5] = len & 0xff;
  u[6] = 0; u[7] = 0;
  if (!csum) return;
  let c = finish(sum16(u, 0, len, pseudoSum(src, dst, IPPROTO_UDP, len)));
  if (c === 0) c = 0xffff;
  u[6] = c >> 8; u[7] = c & 0xff;
}

/** verify false: the checksum is trusted (our own loopback packet, header/offload.ts). */
export function parseUDP(u: Uint8Array, src: Uint8Array, dst: Uint8Array, verify = true): UDPDatagram | null {
  if (u.length < UDP_HEADER) return null;
  const len = (u[4] << 8) | u[5];
  // Over IPv6 a jumbo length of 0 is not supported; short or overlong lengths are malformed.
  if (len < UDP_HEADER || len > u.length) return null;
  const sum = (u[6] << 8) | u[7];
  if (!verify) {
    // Trusted: nothing to check.
  } else if (sum === 0) {
    if (src.length === 16) return null;
  } else if (finish(sum16(u, 0, len, pseudoSum(src, dst, IPPROTO_UDP, len))) !== 0) {
    return null;
  }
  return { srcPort: (u[0] << 8) | u[1], dstPort: (u[2] << 8) | u[3], data: u.subarray(UDP_HEADER, len) };
}
