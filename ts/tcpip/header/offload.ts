// Transport checksum offload (Linux CHECKSUM_PARTIAL, skb_checksum_help): TCP and UDP build
// their packets without the checksum and let the stack decide. Loopback carries them as they
// are and its receiver trusts them (the packet never left the sentry, as Linux's lo with
// NETIF_F_HW_CSUM does), and so does the Ethernet wire between two stacks of the sentry (as
// a veth pair); a packet that waits for its neighbour to be resolved gets its checksum made
// here first (skb_checksum_help), as would one for any link without offload.

import { finish, pseudoSum, sum16 } from '../checksum';
import { IPPROTO_TCP } from './tcp';
import { IPPROTO_UDP } from './udp';

/** Fill the TCP or UDP checksum of pkt (a whole IP packet, header written). */
export function fillTransportChecksum(pkt: Uint8Array, proto: number, src: Uint8Array, dst: Uint8Array): void {
  const ipLen = pkt[0] >> 4 === 4 ? (pkt[0] & 0xf) * 4 : 40;
  const t = pkt.subarray(ipLen);
  const at = proto === IPPROTO_TCP ? 16 : proto === IPPROTO_UDP ? 6 : -1;
  if (at < 0 || t.length < at + 2) return;
  t[at] = 0;
  t[at + 1] = 0;
  let c = finish(sum16(t, 0, t.length, pseudoSum(src, dst, proto, t.length)));
  // UDP sends a computed zero as all ones (zero means "no checksum").
  if (c === 0 && proto === IPPROTO_UDP) c = 0xffff;
  t[at] = c >> 8;
  t[at + 1] = c & 0xff;
}

/** fillTransportChecksum for a packet whose protocol and addresses are read from its own
 *  IPv4 or IPv6 header (as the stack wrote it: no IPv6 extension headers). */
export function fillTransportChecksumOf(pkt: Uint8Array): void {
  if (pkt.length >= 20 && pkt[0] >> 4 === 4) fillTransportChecksum(pkt, pkt[9], pkt.subarray(12, 16), pkt.subarray(16, 20));
  else if (pkt.length >= 40 && pkt[0] >> 4 === 6) fillTransportChecksum(pkt, pkt[6], pkt.subarray(8, 24), pkt.subarray(24, 40));
}
