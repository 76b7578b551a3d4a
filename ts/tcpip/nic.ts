// Network interfaces and the routing table as the rest of the sentry sees them (Linux
// struct net_device / in_ifaddr / fib; gVisor stack.NICInfo and tcpip.Route). This file is
// the stack's read-mostly API for netlink (RTM_GETLINK/GETADDR/GETROUTE), the SIOCGIF*
// ioctls and /proc/net/*: plain records, no behaviour. The links that carry packets are in
// link/; routing (longest prefix match) is in route.ts.

import type { IPAddr } from './addr';
import { WIDE_ZERO } from './wide_field';

// net_device flags (include/uapi/linux/if.h).
export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_RUNNING = 0x40;
export const IFF_NOARP = 0x80;
export const IFF_PROMISC = 0x100;
export const IFF_MULTICAST = 0x1000;
export const IFF_LOWER_UP = 0x10000;

// Link types (include/uapi/linux/if_arp.h), for ifi_type and SIOCGIFHWADDR's sa_family.
export const ARPHRD_ETHER = 1;
export const ARPHRD_LOOPBACK = 772;

// Address scopes (include/uapi/linux/rtnetlink.h, enum rt_scope_t).
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;

/** One address of an interface (an ifaddr): 4 or 16 bytes, with its prefix length. */
export interface NicAddress {
  addr: IPAddr;
  prefixLen: number;
  scope: number;
  /** An IPv4 broadcast address as an `ip addr add` gave it (null: none given); absent: the
   *  subnet's, as the sandbox's own addresses have. */
  broadcast?: IPAddr | null;
}

/** Counters of one interface, as /proc/net/dev and IFLA_STATS64 show them. */
export interface NicStats {
  rxPackets: number;
  rxBytes: number;
  rxDropped: number;
  txPackets: number;
  txBytes: number;
  txDropped: number;
}

export function newNicStats(): NicStats {
  // Byte counts pass 2^31 (wide_field.ts).
  return { rxPackets: 0, rxBytes: WIDE_ZERO, rxDropped: 0, txPackets: 0, txBytes: WIDE_ZERO, txDropped: 0 };
}

/** An interface. index 1 is always lo; the sandbox's Ethernet-like link is eth0 (index 2). */
export interface NicInfo {
  readonly index: number;
  readonly name: string;
  /** IFF_* bits. */
  flags: number;
  mtu: number;
  /** ARPHRD_*. */
  readonly type: number;
  /** The hardware address: 6 bytes (all zero for lo, as Linux shows 00:00:00:00:00:00). */
  readonly hwAddr: Uint8Array;
  /** The broadcast hardware address (ff:ff:ff:ff:ff:ff on Ethernet, zeros on lo). */
  readonly hwBroadcast: Uint8Array;
  readonly addrs: NicAddress[];
  readonly stats: NicStats;
  /** tx queue length (IFLA_TXQLEN): 1000 on Ethernet, 1000 on lo too in current kernels. */
  readonly txQueueLen: number;
}

/** A route of the main table: dst/prefixLen reaches through ifindex, via gateway if any
 *  (null: on-link). prefSrc is the source address the route prefers. */
export interface RouteInfo {
  dst: IPAddr;
  prefixLen: number;
  gateway: IPAddr | null;
  ifindex: number;
  prefSrc: IPAddr | null;
  metric: number;
  scope: number;
}

/** What the stack's ip_route_output answers: the interface, the source and the next hop. */
export interface RouteResult {
  nic: NicInfo;
  src: IPAddr;
  /** The neighbour the packet is framed for (the gateway, or dst itself on-link). */
  nextHop: IPAddr;
}

/** Whether addr falls in prefix/len (same family). */
export function inPrefix(addr: IPAddr, prefix: IPAddr, len: number): boolean {
  if (addr.length !== prefix.length) return false;
  let bits = len;
  for (let i = 0; i < addr.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((addr[i] & mask) !== (prefix[i] & mask)) return false;
  }
  return true;
}

/** "aa:bb:cc:dd:ee:ff" */
export function formatMac(mac: Uint8Array): string {
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
}
