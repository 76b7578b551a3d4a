// The network interfaces and routes of a sandbox as programs see them (Linux net/core/dev.c's
// device list, the fib's kernel routes): one read-only view that netlink (netlink/route.ts),
// the SIOCGIF* ioctls (ifreq.ts) and /proc/net build their answers from, so all three agree.
// It reads the stack's NIC and route API (ts/tcpip/nic.ts) and never changes it; the stack
// keeps the packets, this file only adds what the ABI shows beside them (operstate, qdisc,
// broadcast addresses, the local routing table Linux derives from the addresses).

import { addrEqual, type IPAddr } from '../tcpip/addr';
import type { Stack } from '../tcpip/stack';
import { IFF_LOOPBACK, IFF_LOWER_UP, IFF_MULTICAST, IFF_UP, RT_SCOPE_HOST, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE } from '../tcpip/nic';
import { neverBroughtUp } from '../kernel/ns/net_ns';

export { ARPHRD_ETHER, ARPHRD_LOOPBACK, IFF_BROADCAST, IFF_LOOPBACK, IFF_LOWER_UP, IFF_MULTICAST, IFF_RUNNING, IFF_UP, RT_SCOPE_HOST, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE } from '../tcpip/nic';
// <linux/rtnetlink.h> tables, types, protocols
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
export const IFA_F_SECONDARY = 0x01;
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

export interface IfStats { rxPackets: number; rxBytes: number; rxDropped: number; txPackets: number; txBytes: number; txDropped: number }

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

/** The interfaces, by index (the stack's NICs as the ABI describes them). */
export function netInterfaces(stack: Stack): NetInterface[] {
  return stack.nics().map((nic) => {
    const lo = (nic.flags & IFF_LOOPBACK) !== 0;
    const up = (nic.flags & (IFF_UP | IFF_LOWER_UP)) === (IFF_UP | IFF_LOWER_UP);
    const s = nic.stats;
    return {
      index: nic.index, name: nic.name, type: nic.type, flags: nic.flags, mtu: nic.mtu, txqlen: nic.txQueueLen,
      hwaddr: nic.hwAddr, hwbroadcast: nic.hwBroadcast,
      // The stack queues nothing between a socket and a link: no queueing discipline; a link
      // never brought up has Linux's noop one.
      qdisc: neverBroughtUp(nic) ? 'noop' : 'noqueue',
      // Linux reports lo's operational state as unknown while up (its driver never sets one).
      operstate: (nic.flags & IFF_UP) === 0 ? 2 /* IF_OPER_DOWN */ : lo ? IF_OPER_UNKNOWN : up ? IF_OPER_UP : 2,
      stats: { rxPackets: s.rxPackets, rxBytes: s.rxBytes, rxDropped: s.rxDropped, txPackets: s.txPackets, txBytes: s.txBytes, txDropped: s.txDropped },
      addrs: nic.addrs.map((a, i) => ({
        addr: a.addr, prefix: a.prefixLen, scope: a.scope,
        // An IPv4 address in a subnet an earlier one of the interface has is a secondary.
        flags: IFA_F_PERMANENT | (a.addr.length === 4 && nic.addrs.slice(0, i).some((b) => b.addr.length === 4 && b.prefixLen === a.prefixLen &&
          addrEqual(maskAddr(b.addr, a.prefixLen), maskAddr(a.addr, a.prefixLen))) ? IFA_F_SECONDARY : 0),
        broadcast: a.broadcast !== undefined ? a.broadcast : a.addr.length === 4 && !lo && a.prefixLen < 31 ? broadcastOf(a.addr, a.prefixLen) : null,
      })),
    };
  });
}

function broadcastOf(addr: IPAddr, prefix: number): IPAddr {
  const m = prefixMask(4, prefix);
  return addr.map((b, i) => (b & m[i]) | (~m[i] & 0xff));
}

export function interfaceByName(stack: Stack, name: string): NetInterface | undefined {
  return netInterfaces(stack).find((i) => i.name === name);
}

function compareAddr(a: IPAddr, b: IPAddr): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
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

/** The routes Linux's fib holds for these interfaces: the stack's main table, then the local
 *  table fib_add_ifaddr and addrconf make — for each IPv4 address a local /32 and the
 *  subnet's broadcast (on the loopback, the whole subnet is local); for each IPv6 address a
 *  local /128, and ff00::/8 on a multicast link with IPv6. */
export function netRoutes(stack: Stack, family: 4 | 16): Route[] {
  const main: Route[] = [];
  // The IPv4 fib is a trie: a dump walks it by destination, the longer prefix first on a tie.
  const ordered = family === 4 ? [...stack.routes()].sort((a, b) => compareAddr(a.dst, b.dst) || b.prefixLen - a.prefixLen) : stack.routes();
  for (const r of ordered) {
    if (r.dst.length !== family) continue;
    main.push({
      dst: r.dst, prefix: r.prefixLen, gateway: r.gateway, ifindex: r.ifindex, table: RT_TABLE_MAIN, type: RTN_UNICAST,
      scope: r.gateway || family === 16 ? RT_SCOPE_UNIVERSE : r.scope, protocol: r.gateway ? RTPROT_BOOT : RTPROT_KERNEL,
      prefsrc: family === 4 ? r.prefSrc : null,
      // IPv4 sends a metric only when there is one; IPv6 always does.
      priority: family === 16 ? r.metric : r.metric !== 0 ? r.metric : null,
    });
  }
  const local: Route[] = [];
  const base = { gateway: null, protocol: RTPROT_KERNEL, priority: null };
  for (const nic of netInterfaces(stack)) {
    const isLo = (nic.flags & IFF_LOOPBACK) !== 0;
    let v6 = false;
    for (const a of nic.addrs) {
      if (a.addr.length !== family) continue;
      if (family === 4) {
        const net = maskAddr(a.addr, a.prefix);
        if (isLo) local.push({ ...base, dst: net, prefix: a.prefix, ifindex: nic.index, table: RT_TABLE_LOCAL, type: RTN_LOCAL, scope: RT_SCOPE_HOST, prefsrc: a.addr });
        local.push({ ...base, dst: a.addr, prefix: 32, ifindex: nic.index, table: RT_TABLE_LOCAL, type: RTN_LOCAL, scope: RT_SCOPE_HOST, prefsrc: a.addr });
        if (a.prefix < 31) {
          const bcast = a.broadcast ?? broadcastOf(a.addr, a.prefix);
          local.push({ ...base, dst: bcast, prefix: 32, ifindex: nic.index, table: RT_TABLE_LOCAL, type: RTN_BROADCAST, scope: RT_SCOPE_LINK, prefsrc: a.addr });
        }
      } else {
        v6 = true;
        local.push({ ...base, dst: a.addr, prefix: 128, ifindex: nic.index, table: RT_TABLE_LOCAL, type: RTN_LOCAL, scope: RT_SCOPE_UNIVERSE, prefsrc: null, priority: 0 });
      }
    }
    if (v6 && !isLo && (nic.flags & IFF_MULTICAST)) {
      const ff = new Uint8Array(16);
      ff[0] = 0xff;
      local.push({ ...base, dst: ff, prefix: 8, ifindex: nic.index, table: RT_TABLE_LOCAL, type: RTN_MULTICAST, scope: RT_SCOPE_UNIVERSE, prefsrc: null, priority: 256 });
    }
  }
  return [...main, ...local];
}
