// ICMP and ICMPv6 echo (RFC 792, RFC 4443 §4): the stack answers a ping to one of its own
// unicast addresses itself (Linux icmp_echo / icmpv6_echo_reply), with the same identifier,
// sequence and data; never to a broadcast or multicast destination.

import { finish, pseudoSum, sum16 } from './checksum';
import type { IPAddr } from './addr';

export const ICMP_ECHOREPLY = 0;
export const ICMP_ECHO = 8;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;
const IPPROTO_ICMPV6 = 58;

/** The reply to the echo request m (checksum already verified) from src to dst, as a
 *  packet with ipLen bytes left for the IP header; null when no reply is due. */
export function echoReply(m: Uint8Array, src: IPAddr, dst: IPAddr, ipLen: number): Uint8Array | null {
  if ((dst.length === 4 && (dst[3] === 255 || dst[0] >= 224)) || (dst.length === 16 && dst[0] === 0xff)) return null;
  const v6 = dst.length === 16;
  const pkt = new Uint8Array(ipLen + m.length);
  pkt.set(m, ipLen);
  const r = pkt.subarray(ipLen);
  r[0] = v6 ? ICMPV6_ECHO_REPLY : ICMP_ECHOREPLY;
  r[1] = 0;
  r[2] = 0;
  r[3] = 0;
  const init = v6 ? pseudoSum(dst, src, IPPROTO_ICMPV6, r.length) : 0;
  const c = finish(sum16(r, 0, r.length, init));
  r[2] = c >> 8;
  r[3] = c & 0xff;
  return pkt;
}
