// The interfaces and the routing table (Linux fib_table_lookup over the local and main
// tables; gVisor stack.FindRoute). An address of any interface, 127.0.0.0/8 and ::1 are
// local: packets to them go through lo. Anything else takes the main table's longest
// matching prefix (lowest metric on a tie); no match is "network unreachable".

import { addrEqual, V4_LOOPBACK, V6_LOOPBACK, type IPAddr } from './addr';
import { LOOPBACK_MTU } from './link/loopback';
import {
  ARPHRD_LOOPBACK, IFF_LOOPBACK, IFF_LOWER_UP, IFF_RUNNING, IFF_UP, RT_SCOPE_HOST, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE,
  inPrefix, newNicStats, type NicInfo, type RouteInfo, type RouteResult,
} from './nic';

/** lo: index 1, 127.0.0.1/8 and ::1/128. */
export function loopbackNic(): NicInfo {
  return {
    index: 1, name: 'lo', flags: IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_LOWER_UP, mtu: LOOPBACK_MTU,
    type: ARPHRD_LOOPBACK, hwAddr: new Uint8Array(6), hwBroadcast: new Uint8Array(6), stats: newNicStats(), txQueueLen: 1000,
    addrs: [{ addr: V4_LOOPBACK, prefixLen: 8, scope: RT_SCOPE_HOST }, { addr: V6_LOOPBACK, prefixLen: 128, scope: RT_SCOPE_HOST }],
  };
}

/** addr with the bits past prefixLen cleared. */
export function networkOf(addr: IPAddr, prefixLen: number): IPAddr {
  const net = addr.slice();
  for (let i = 0; i < net.length; i++) {
    const bits = Math.max(0, Math.min(8, prefixLen - i * 8));
    net[i] &= (0xff << (8 - bits)) & 0xff;
  }
  return net;
}

export class RouteTable {
  readonly nics: NicInfo[] = [];
  readonly routes: RouteInfo[] = [];

  addNic(nic: NicInfo): void { this.nics.push(nic); }

  /** Give nic an address; an IPv4 one brings its on-link subnet route, as Linux's
   *  fib_add_ifaddr does (IPv6 link-local: fe80::/64). */
  addAddress(nic: NicInfo, addr: IPAddr, prefixLen: number, broadcast?: IPAddr | null): void {
    const linkLocal = addr.length === 16 && addr[0] === 0xfe && (addr[1] & 0xc0) === 0x80;
    const entry = { addr: addr.slice(), prefixLen, scope: linkLocal ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE, ...(broadcast !== undefined ? { broadcast } : {}) };
    const net = networkOf(addr, prefixLen);
    // __inet_insert_ifa: an IPv4 primary goes after the last primary, a secondary (a subnet
    // the interface already has) at the end.
    const v4 = nic.addrs.filter((x) => x.addr.length === 4);
    const secondary = addr.length === 4 && v4.some((x) => x.prefixLen === prefixLen && addrEqual(networkOf(x.addr, prefixLen), net));
    if (addr.length === 4 && !secondary) {
      const primaries = v4.filter((x, i) => !v4.slice(0, i).some((y) => y.prefixLen === x.prefixLen && addrEqual(networkOf(y.addr, x.prefixLen), networkOf(x.addr, x.prefixLen))));
      const last = primaries.length > 0 ? nic.addrs.indexOf(primaries[primaries.length - 1]) : -1;
      nic.addrs.splice(last + 1, 0, entry);
    } else {
      nic.addrs.push(entry);
    }
    // A second address in a subnet the interface has (a secondary) brings no second route;
    // neither does an IPv4 /32 (fib_add_ifaddr).
    if (this.subnetRoute(nic, net, prefixLen) || (addr.length === 4 && prefixLen === 32)) return;
    this.addRoute({ dst: net, prefixLen, gateway: null, ifindex: nic.index, prefSrc: addr.length === 4 ? addr.slice() : null, metric: addr.length === 4 ? 0 : 256, scope: RT_SCOPE_LINK });
  }

  /** Take addr/prefixLen off nic (false: it has no such address); the subnet's route goes
   *  with the last address in it, as fib_del_ifaddr and addrconf's prefix cleanup do. */
  removeAddress(nic: NicInfo, addr: IPAddr, prefixLen: number): boolean {
    const i = nic.addrs.findIndex((x) => x.prefixLen === prefixLen && addrEqual(x.addr, addr));
    if (i < 0) return false;
    nic.addrs.splice(i, 1);
    const net = networkOf(addr, prefixLen);
    if (nic.addrs.some((x) => x.addr.length === addr.length && x.prefixLen === prefixLen && addrEqual(networkOf(x.addr, prefixLen), net))) return true;
    const r = this.subnetRoute(nic, net, prefixLen);
    if (r) this.routes.splice(this.routes.indexOf(r), 1);
    return true;
  }

  private subnetRoute(nic: NicInfo, net: IPAddr, prefixLen: number): RouteInfo | undefined {
    return this.routes.find((r) => r.gateway === null && r.ifindex === nic.index && r.prefixLen === prefixLen && addrEqual(r.dst, net));
  }

  /** Take a route off the table (false: it is not there). */
  removeRoute(r: RouteInfo): boolean {
    const i = this.routes.indexOf(r);
    if (i < 0) return false;
    this.routes.splice(i, 1);
    return true;
  }

  addRoute(r: RouteInfo): void { this.routes.push(r); }

  isLocal(a: IPAddr): boolean {
    if (a.length === 4 ? a[0] === 127 : addrEqual(a, V6_LOOPBACK)) return true;
    for (const n of this.nics) for (const x of n.addrs) if (addrEqual(x.addr, a)) return true;
    return false;
  }

  isBroadcastOrMulticast(a: IPAddr): boolean {
    if (a.length === 16) return a[0] === 0xff;
    if (a[0] >= 224 && a[0] <= 239) return true;
    if (a[0] === 255 && a[1] === 255 && a[2] === 255 && a[3] === 255) return true;
    for (const n of this.nics) {
      for (const x of n.addrs) {
        if (x.addr.length !== 4 || x.prefixLen >= 31 || !inPrefix(a, x.addr, x.prefixLen)) continue;
        let hostBitsSet = true;
        for (let bit = x.prefixLen; bit < 32; bit++) if (!(a[bit >> 3] & (0x80 >> (bit & 7)))) { hostBitsSet = false; break; }
        if (hostBitsSet) return true;
      }
    }
    return false;
  }

  /** Whether a packet for dst arriving on nic is ours (an address of any interface: Linux's
   *  weak host model; loopback nets only on lo). */
  acceptsOn(dst: IPAddr, nic: NicInfo): boolean {
    if (dst.length === 4 ? dst[0] === 127 : addrEqual(dst, V6_LOOPBACK)) return nic.index === 1;
    if (dst.length === 4 && dst[0] === 255 && dst[1] === 255 && dst[2] === 255 && dst[3] === 255) return true;
    if (dst.length === 16 && dst[0] === 0xff) return true;
    return this.isLocal(dst);
  }

  lookup(dst: IPAddr): RouteResult | null {
    let best: RouteInfo | null = null;
    for (const r of this.routes) {
      if (!inPrefix(dst, r.dst, r.prefixLen)) continue;
      if (!best || r.prefixLen > best.prefixLen || (r.prefixLen === best.prefixLen && r.metric < best.metric)) best = r;
    }
    if (!best) return null;
    const nic = this.nics.find((n) => n.index === best.ifindex);
    if (!nic || !(nic.flags & IFF_UP)) return null;
    const src = best.prefSrc ?? this.sourceOn(nic, dst);
    if (!src) return null;
    return { nic, src, nextHop: best.gateway ?? dst };
  }

  /** An address of nic of dst's family (inet_select_addr), the link-local one for a
   *  link-local destination and a wider-scoped one otherwise when there is one (RFC 6724
   *  rule 2, ipv6_dev_get_saddr). */
  private sourceOn(nic: NicInfo, dst: IPAddr): IPAddr | null {
    const wantScope = dst.length === 16 && dst[0] === 0xfe && (dst[1] & 0xc0) === 0x80 ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
    let best: IPAddr | null = null;
    let bestFits = false;
    for (const x of nic.addrs) {
      if (x.addr.length !== dst.length) continue;
      if (inPrefix(dst, x.addr, x.prefixLen)) return x.addr;
      const fits = x.scope === wantScope;
      if (best === null || (fits && !bestFits)) { best = x.addr; bestFits = fits; }
    }
    return best;
  }
}
