// Where the NAT may take a flow (slirp's special addresses): the gateway 10.0.2.2 stands
// for the host's loopback (127.0.0.1), the resolver 10.0.2.3 answers port 53 only (by the
// host's resolver), and any other unicast IPv4 address is reached as itself. Nothing else:
// no broadcast, multicast, 0/8, the sandbox's own subnet, or loopback addresses — so a
// forged packet can make the sentry open only an outbound flow to the destination it names.

import { addrEqual, addrKey, type IPAddr } from '../../tcpip/addr';
import { inPrefix } from '../../tcpip/nic';

export const SANDBOX_NET = new Uint8Array([10, 0, 2, 0]);
export const SANDBOX_PREFIX = 24;
export const GUEST_ADDR = new Uint8Array([10, 0, 2, 15]);
export const GATEWAY_ADDR = new Uint8Array([10, 0, 2, 2]);
export const DNS_ADDR = new Uint8Array([10, 0, 2, 3]);
export const GUEST_MAC = new Uint8Array([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
export const GATEWAY_MAC = new Uint8Array([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02]);

/** A host address and port (host: a literal address Node connects to). */
export interface HostTarget { host: string; port: number; family: 4 | 6 }

export interface NatPolicy {
  /** The host's resolver, for port 53 of DNS_ADDR (null: none known). */
  dns: HostTarget | null;
}

/** The host end for a flow to dst:port, or null when the NAT refuses it. */
export function natTarget(p: NatPolicy, dst: IPAddr, port: number): HostTarget | null {
  if (dst.length !== 4 || port === 0) return null;
  if (addrEqual(dst, GATEWAY_ADDR)) return { host: '127.0.0.1', port, family: 4 };
  if (addrEqual(dst, DNS_ADDR)) return port === 53 ? p.dns : null;
  if (inPrefix(dst, SANDBOX_NET, SANDBOX_PREFIX)) return null;
  const a = dst[0];
  if (a === 0 || a === 127 || a >= 224) return null;
  return { host: addrKey(dst), port, family: 4 };
}
