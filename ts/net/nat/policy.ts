// Where the NAT may take a flow (slirp's special addresses): the gateway 10.0.2.2 stands
// for the host's loopback (127.0.0.1), the resolver 10.0.2.3 answers port 53 only (by the
// host's resolver), and any other unicast IPv4 address is reached as itself. Nothing else:
// no broadcast, multicast, 0/8, the sandbox's own subnet, or loopback addresses — so a
// forged packet can make the sentry open only an outbound flow to the destination it names.
// IPv6 the same way, on fd00::/64 (the sandbox fd00::15, the gateway fd00::2 = the host's ::1,
// the resolver fd00::3; libslirp's layout with a ULA prefix): any other unicast address as
// itself, but never ::, ::1, v4-mapped or -compatible, link-local or multicast ones, nor
// another address of the sandbox's own prefix.

import { addrEqual, addrKey, type IPAddr } from '../../tcpip/addr';
import { inPrefix } from '../../tcpip/nic';

export const SANDBOX_NET = new Uint8Array([10, 0, 2, 0]);
export const SANDBOX_PREFIX = 24;
export const GUEST_ADDR = new Uint8Array([10, 0, 2, 15]);
export const GATEWAY_ADDR = new Uint8Array([10, 0, 2, 2]);
export const DNS_ADDR = new Uint8Array([10, 0, 2, 3]);
export const SANDBOX_NET6 = v6('fd00::');
export const SANDBOX_PREFIX6 = 64;
export const GUEST_ADDR6 = v6('fd00::15');
export const GATEWAY_ADDR6 = v6('fd00::2');
export const DNS_ADDR6 = v6('fd00::3');
export const GUEST_MAC = new Uint8Array([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
export const GATEWAY_MAC = new Uint8Array([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02]);

/** A host address and port (host: a literal address Node connects to). */
export interface HostTarget { host: string; port: number; family: 4 | 6 }

export interface NatPolicy {
  /** The host's resolver, for port 53 of DNS_ADDR (null: none known). */
  dns: HostTarget | null;
}

/** fd00::-style text to 16 bytes (the few constants above; "::" once, hex groups). */
function v6(text: string): IPAddr {
  const [head, tail = ''] = text.split('::');
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const h = groups(head);
  const t = groups(tail);
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const a = new Uint8Array(16);
  all.forEach((g, i) => { a[2 * i] = g >> 8; a[2 * i + 1] = g & 0xff; });
  return a;
}

function natTarget6(p: NatPolicy, dst: IPAddr, port: number): HostTarget | null {
  if (addrEqual(dst, GATEWAY_ADDR6)) return { host: '::1', port, family: 6 };
  if (addrEqual(dst, DNS_ADDR6)) return port === 53 ? p.dns : null;
  if (inPrefix(dst, SANDBOX_NET6, SANDBOX_PREFIX6)) return null;
  // ::/96 (unspecified, loopback, v4-compatible), ::ffff:0:0/96, fe80::/10, ff00::/8.
  const zero80 = dst.subarray(0, 10).every((b) => b === 0);
  if (zero80 && ((dst[10] === 0 && dst[11] === 0) || (dst[10] === 0xff && dst[11] === 0xff))) return null;
  if ((dst[0] === 0xfe && (dst[1] & 0xc0) === 0x80) || dst[0] === 0xff) return null;
  return { host: addrKey(dst), port, family: 6 };
}

/** The host end for a flow to dst:port, or null when the NAT refuses it. */
export function natTarget(p: NatPolicy, dst: IPAddr, port: number): HostTarget | null {
  if (port === 0) return null;
  if (dst.length === 16) return natTarget6(p, dst, port);
  if (dst.length !== 4) return null;
  if (addrEqual(dst, GATEWAY_ADDR)) return { host: '127.0.0.1', port, family: 4 };
  if (addrEqual(dst, DNS_ADDR)) return port === 53 ? p.dns : null;
  if (inPrefix(dst, SANDBOX_NET, SANDBOX_PREFIX)) return null;
  const a = dst[0];
  if (a === 0 || a === 127 || a >= 224) return null;
  return { host: addrKey(dst), port, family: 4 };
}
