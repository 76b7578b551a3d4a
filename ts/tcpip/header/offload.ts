// Transport checksum offload (Linux CHECKSUM_PARTIAL, skb_checksum_help): TCP and UDP build
// their packets without the checksum and let the stack decide. Loopback carries them as they
// are and its receiver trusts them (the packet never left the sentry, as Linux's lo with
// NETIF_F_HW_CSUM does); a packet for any other link gets its checksum made here first.

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
