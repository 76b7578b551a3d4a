// /proc/net/{dev,if_inet6,route,ipv6_route}: the interfaces and routes of ../../net/interfaces.ts
// in Linux's layouts (dev_seq_show, if6_seq_show, rt_cache's fib_route_seq_show,
// ipv6_route_native_seq_show), so ifconfig, netstat -r and route parsers read them.

import { stackOf } from '../../tcpip/stack';
import {
  IFF_LOOPBACK, RTN_LOCAL, RTN_UNICAST, RT_TABLE_MAIN, netInterfaces, netRoutes, prefixMask,
} from '../../net/interfaces';

function hex(n: number, w: number): string { return (n >>> 0).toString(16).toUpperCase().padStart(w, '0'); }
function lhex(n: number, w: number): string { return (n >>> 0).toString(16).padStart(w, '0'); }
/** %pi6: 32 lowercase hex digits in network order. */
function pi6(a: Uint8Array): string { return Array.from(a, (b) => lhex(b, 2)).join(''); }
/** An IPv4 address as the __be32 Linux prints with %08X (read in host order). */
function be32(a: Uint8Array): string { return hex(a[0] | (a[1] << 8) | (a[2] << 16) | (a[3] << 24), 8); }

export function procNetDev(kernel: object): string {
  let out = 'Inter-|   Receive                                                |  Transmit\n'
    + ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n';
  for (const nic of netInterfaces(stackOf(kernel))) {
    const s = nic.stats;
    const n = (v: number, w: number): string => String(v).padStart(w);
    out += `${nic.name.padStart(6)}: ${n(s.rxBytes, 7)} ${n(s.rxPackets, 7)} ${n(0, 4)} ${n(s.rxDropped, 4)} ${n(0, 4)} ${n(0, 5)} ${n(0, 10)} ${n(0, 9)} `
      + `${n(s.txBytes, 8)} ${n(s.txPackets, 7)} ${n(0, 4)} ${n(s.txDropped, 4)} ${n(0, 4)} ${n(0, 5)} ${n(0, 7)} ${n(0, 10)}\n`;
  }
  return out;
}

// IPv6 address scopes as if_inet6 prints them (ipv6_addr_scope's IPV6_ADDR_* & 0x00f0).
const IPV6_ADDR_LOOPBACK = 0x10;
const IPV6_ADDR_LINKLOCAL = 0x20;
const IPV6_ADDR_SITELOCAL = 0x40;

function v6scope(a: Uint8Array): number {
  if (a.every((b, i) => (i === 15 ? b === 1 : b === 0))) return IPV6_ADDR_LOOPBACK;
  if (a[0] === 0xfe && (a[1] & 0xc0) === 0x80) return IPV6_ADDR_LINKLOCAL;
  if (a[0] === 0xfe && (a[1] & 0xc0) === 0xc0) return IPV6_ADDR_SITELOCAL;
  return 0;
}

export function procNetIfInet6(kernel: object): string {
  let out = '';
  for (const nic of netInterfaces(stackOf(kernel))) {
    for (const a of nic.addrs) {
      if (a.addr.length !== 16) continue;
      out += `${pi6(a.addr)} ${lhex(nic.index, 2)} ${lhex(a.prefix, 2)} ${lhex(v6scope(a.addr), 2)} ${lhex(a.flags, 2)} ${nic.name.padStart(8)}\n`;
    }
  }
  return out;
}

const RTF_UP = 0x1;
const RTF_GATEWAY = 0x2;
const RTF_HOST = 0x4;
const RTF_REJECT = 0x200;
const RTF_NONEXTHOP = 0x200000;
const RTF_LOCAL = 0x80000000;

/** The main table's unicast routes (what fib_route_seq_show walks). */
export function procNetRoute(kernel: object): string {
  const stack = stackOf(kernel);
  const names = new Map(netInterfaces(stack).map((n) => [n.index, n.name]));
  const lines = ['Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT'];
  for (const r of netRoutes(stack, 4)) {
    if (r.table !== RT_TABLE_MAIN || r.type !== RTN_UNICAST) continue;
    const flags = RTF_UP | (r.gateway ? RTF_GATEWAY : 0) | (r.prefix === 32 ? RTF_HOST : 0);
    lines.push(`${names.get(r.ifindex) ?? '*'}\t${be32(r.dst)}\t${be32(r.gateway ?? new Uint8Array(4))}\t${hex(flags, 4)}\t0\t0\t${r.priority ?? 0}\t`
      + `${be32(prefixMask(4, r.prefix))}\t0\t0\t0`);
  }
  return lines.map((l) => `${l.padEnd(127)}\n`).join('');
}

/** Every IPv6 route, main table then local, then the reject route every fib6 tree holds. */
export function procNetIpv6Route(kernel: object): string {
  const stack = stackOf(kernel);
  const nics = netInterfaces(stack);
  const names = new Map(nics.map((n) => [n.index, n.name]));
  const zero = pi6(new Uint8Array(16));
  let out = '';
  for (const r of netRoutes(stack, 16)) {
    const local = r.type === RTN_LOCAL;
    const flags = RTF_UP | (r.gateway ? RTF_GATEWAY : 0) | (local ? RTF_LOCAL | RTF_NONEXTHOP : 0);
    out += `${pi6(r.dst)} ${lhex(r.prefix, 2)} ${zero} 00 ${r.gateway ? pi6(r.gateway) : zero} ${lhex(r.priority ?? 0, 8)} `
      + `00000001 00000000 ${lhex(flags, 8)} ${(names.get(r.ifindex) ?? '').padStart(8)}\n`;
  }
  const lo = nics.find((n) => n.flags & IFF_LOOPBACK);
  out += `${zero} 00 ${zero} 00 ${zero} ffffffff 00000001 00000000 ${lhex(RTF_REJECT | RTF_NONEXTHOP, 8)} ${(lo?.name ?? 'lo').padStart(8)}\n`;
  return out;
}

