// The network interfaces and routes of a sandbox as programs see them (Linux net/core/dev.c's
// device list, the fib's kernel routes): one read-only view that netlink (netlink/route.ts),
// the SIOCGIF* ioctls (ifreq.ts) and /proc/net build their answers from, so all three agree.
// It reads the stack (ts/tcpip) and never changes it; the stack keeps the packets, this file
// only describes the links and addresses the stack routes through.

import type { IPAddr } from '../tcpip/addr';
import { LOOPBACK_MTU } from '../tcpip/link/loopback';
import type { Stack } from '../tcpip/stack';

// <linux/if.h> flags
export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_RUNNING = 0x40;
export const IFF_MULTICAST = 0x1000;
export const IFF_LOWER_UP = 0x10000;
// <linux/if_arp.h>
export const ARPHRD_ETHER = 1;
export const ARPHRD_LOOPBACK = 772;
// <linux/rtnetlink.h> scopes, tables, types, protocols
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;
export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;
export const RTN_UNICAST = 1;
export const RTN_LOCAL = 2;
export const RTN_BROADCAST = 3;
export const RTN_MULTICAST = 5;
export const RTPROT_KERNEL = 2;
export const RTPROT_BOOT = 3;
// <linux/if_addr.h>
export const IFA_F_PERMANENT = 0x80;
// RFC 2863 operational states (IF_OPER_*)
export const IF_OPER_UNKNOWN = 0;
export const IF_OPER_UP = 6;

export interface IfAddr {
  addr: IPAddr;
  prefix: number;
  scope: number;
  flags: number;
  /** IPv4 broadcast address, or null (the loopback has none). */
  broadcast: IPAddr | null;
}

export interface IfStats { rxPackets: number; rxBytes: number; txPackets: number; txBytes: number }

export interface NetInterface {
  index: number;
  name: string;
  /** ARPHRD_* */
  type: number;
  /** IFF_* as SIOCGIFFLAGS (16 bits) and netlink (with IFF_LOWER_UP) report them. */
  flags: number;
  mtu: number;
  txqlen: number;
  hwaddr: Uint8Array;
  hwbroadcast: Uint8Array;
  qdisc: string;
  operstate: number;
  addrs: IfAddr[];
  stats: IfStats;
}

export interface Route {
  dst: IPAddr;
  prefix: number;
  gateway: IPAddr | null;
  ifindex: number;
  table: number;
  /** RTN_* */
  type: number;
  scope: number;
  protocol: number;
  prefsrc: IPAddr | null;
  /** RTA_PRIORITY (IPv6 metric); null where Linux sends none (IPv4 kernel routes). */
  priority: number | null;
}

const LOOPBACK_INDEX = 1;

function v4(a: number, b: number, c: number, d: number): IPAddr { return new Uint8Array([a, b, c, d]); }

/** The interfaces, by index. */
export function netInterfaces(stack: Stack): NetInterface[] {
  const lo = stack.loopback;
  // Every packet sent on the loopback is also received on it.
  const stats: IfStats = { rxPackets: lo.packets, rxBytes: lo.bytes, txPackets: lo.packets, txBytes: lo.bytes };
  const v6lo = new Uint8Array(16);
  v6lo[15] = 1;
  return [{
    index: LOOPBACK_INDEX, name: 'lo', type: ARPHRD_LOOPBACK, flags: IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_LOWER_UP,
    mtu: LOOPBACK_MTU, txqlen: 1000, hwaddr: new Uint8Array(6), hwbroadcast: new Uint8Array(6), qdisc: 'noqueue',
    operstate: IF_OPER_UNKNOWN, stats,
    addrs: [
      { addr: v4(127, 0, 0, 1), prefix: 8, scope: RT_SCOPE_HOST, flags: IFA_F_PERMANENT, broadcast: null },
      { addr: v6lo, prefix: 128, scope: RT_SCOPE_HOST, flags: IFA_F_PERMANENT, broadcast: null },
    ],
  }];
}

export function interfaceByName(stack: Stack, name: string): NetInterface | undefined {
  return netInterfaces(stack).find((i) => i.name === name);
}

export function interfaceByIndex(stack: Stack, index: number): NetInterface | undefined {
  return netInterfaces(stack).find((i) => i.index === index);
}

/** The network part of addr under a prefix length. */
export function maskAddr(addr: IPAddr, prefix: number): IPAddr {
  const out = new Uint8Array(addr.length);
  for (let i = 0; i < addr.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = addr[i] & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

/** A netmask of a prefix length, as bytes. */
export function prefixMask(len: number, prefix: number): IPAddr {
  return maskAddr(new Uint8Array(len).fill(0xff), prefix);
}

/** The routes Linux's fib holds for these interfaces (fib_add_ifaddr, addrconf): for each
 *  IPv4 address a local /32 and the subnet's broadcast in the local table, and a link route
 *  in main (on the loopback, the whole subnet is local); for each IPv6 address a local /128,
 *  and a prefix route with fe80::/64 and ff00::/8 on links that are not the loopback. Then
 *  the gateways the stack routes through. */
export function netRoutes(stack: Stack, family: 4 | 16): Route[] {
  const main: Route[] = [];
  const local: Route[] = [];
  const base = { gateway: null, protocol: RTPROT_KERNEL, priority: null };
  for (const nic of netInterfaces(stack)) {
    const isLo = (nic.flags & IFF_LOOPBACK) !== 0;
    for (const a of nic.addrs) {
      if (a.addr.length !== family) continue;
      if (family === 4) {
        const net = maskAddr(a.addr, a.prefix);
        if (isLo) local.push({ ...base, dst: net, prefix: a.prefix, ifindex: nic.index, table: RT_TABLE_LOCAL, type: RTN_LOCAL, scope: RT_SCOPE_HOST, prefsrc: a.addr });
        else main.push({ ...base, dst: net, prefix: a.prefix, ifindex: nic.index, table: RT_TABLE_MAIN, type: RTN_UNICAST, scope: RT_SCOPE_LINK, prefsrc: a.addr });
        local.push({ ...base, dst: a.addr, prefix: 32, ifindex: nic.index, table: RT_TABLE_LOCAL, type: RTN_LOCAL, scope: RT_SCOPE_HOST, prefsrc: a.addr });
        if (a.prefix < 31) {
          const bcast = a.broadcast ?? net.map((b, i) => b | (~prefixMask(4, a.prefix)[i] & 0xff));
          local.push({ ...base, dst: bcast, prefix: 32, ifindex: nic.index, table: RT_TABLE_LOCAL, type: RTN_BROADCAST, scope: RT_SCOPE_LINK, prefsrc: a.addr });
        }
      } else {
        if (!isLo) main.push({ ...base, dst: maskAddr(a.addr, a.prefix), prefix: a.prefix, ifindex: nic.index, table: RT_TABLE_MAIN, type: RTN_UNICAST, scope: RT_SCOPE_UNIVERSE, prefsrc: null, priority: 256 });
        local.push({ ...base, dst: a.addr, prefix: 128, ifindex: nic.index, table: RT_TABLE_LOCAL, type: RTN_LOCAL, scope: RT_SCOPE_UNIVERSE, prefsrc: null, priority: 0 });
      }
    }
    if (family === 16 && !isLo && (nic.flags & IFF_MULTICAST)) {
      const ff = new Uint8Array(16);
      ff[0] = 0xff;
      local.push({ ...base, dst: ff, prefix: 8, ifindex: nic.index, table: RT_TABLE_LOCAL, type: RTN_MULTICAST, scope: RT_SCOPE_UNIVERSE, prefsrc: null, priority: 256 });
    }
  }
  return [...main, ...local];
}
