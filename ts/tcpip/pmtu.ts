// Path MTU kept with the route (Linux's route exceptions: __ip_rt_update_pmtu on the
// nexthop's fnhe, rt6_do_update_pmtu's cached route): a "fragmentation needed" or "packet
// too big" that reached a socket lowers the MTU of the path to the quoted destination for
// every socket that goes there, until it expires (net.ipv4.route.mtu_expires, 600 s; IPv6's
// ip6_rt_mtu_expires likewise). IPv4 takes a report below net.ipv4.route.min_pmtu (552) as
// that minimum; IPv6 ignores one below 1280 (IPV6_MIN_MTU). Neither ever raises a path's
// MTU, and a path through lo keeps the device's. What a socket may send under each
// IP_MTU_DISCOVER mode is pmtuLimit's business.

import { addrKey, type IPAddr } from './addr';
import type { Stack } from './stack';
import { perStack } from './per_stack';

export const IP_PMTUDISC_DONT = 0, IP_PMTUDISC_WANT = 1, IP_PMTUDISC_DO = 2, IP_PMTUDISC_PROBE = 3;
export const IP_PMTUDISC_INTERFACE = 4, IP_PMTUDISC_OMIT = 5;
const MIN_PMTU4 = 552;
const MIN_MTU6 = 1280;
/** IP_MAX_MTU: an IPv4 route's MTU never reads above the total-length field's range. */
const IP_MAX_MTU = 0xffff;
const EXPIRES_MS = 600_000;

interface Exception { mtu: number; expires: number }

export class PmtuCache {
  private readonly byDst = new Map<string, Exception>();
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** The exception's MTU for dst if one is alive. */
  lookup(dst: IPAddr): number | null {
    const k = addrKey(dst);
    const e = this.byDst.get(k);
    if (!e) return null;
    if (this.now() >= e.expires) { this.byDst.delete(k); return null; }
    return e.mtu;
  }

  /** A report of `mtu` for the path to dst whose device MTU is devMtu. */
  learn(dst: IPAddr, mtu: number, devMtu: number): void {
    const v6 = dst.length === 16;
    if (v6 && mtu < MIN_MTU6) return;
    if (!v6 && mtu < MIN_PMTU4) mtu = MIN_PMTU4;
    // __ip_rt_update_pmtu refreshes an equal one; rt6_do_update_pmtu takes only a lower one.
    const cur = this.lookup(dst) ?? devMtu;
    if (mtu > cur || (v6 && mtu === cur)) return;
    this.byDst.set(addrKey(dst), { mtu, expires: this.now() + EXPIRES_MS });
  }

  get size(): number { return this.byDst.size; }
}

export const pmtuOf = perStack(() => new PmtuCache());

/** dst_mtu of the route to dst (null: no route): the device's, or a live exception's. */
export function pathMtu(stack: Stack, dst: IPAddr): number | null {
  const r = stack.routeOutput(dst);
  if (!r) return null;
  const dev = dst.length === 4 ? Math.min(r.nic.mtu, IP_MAX_MTU) : r.nic.mtu;
  if (r.nic.index === 1) return dev;
  return Math.min(dev, pmtuOf(stack).lookup(dst) ?? dev);
}

/** A frag-needed / packet-too-big for a flow to dst reached a socket that hears them. */
export function learnPmtu(stack: Stack, dst: IPAddr, mtu: number): void {
  const r = stack.routeOutput(dst);
  if (!r || r.nic.index === 1) return;
  pmtuOf(stack).learn(dst, mtu, dst.length === 4 ? Math.min(r.nic.mtu, IP_MAX_MTU) : r.nic.mtu);
}

/** The largest IP packet a datagram to dst may become without fragmenting under the
 *  socket's mode (ip_append_data: DO against the path MTU, PROBE against the device's), or
 *  null when it may be fragmented (DONT, WANT, INTERFACE, OMIT). */
export function pmtuLimit(stack: Stack, dst: IPAddr, mode: number): number | null {
  if (mode !== IP_PMTUDISC_DO && mode !== IP_PMTUDISC_PROBE) return null;
  if (mode === IP_PMTUDISC_PROBE) {
    const r = stack.routeOutput(dst);
    return r ? (dst.length === 4 ? Math.min(r.nic.mtu, IP_MAX_MTU) : r.nic.mtu) : null;
  }
  return pathMtu(stack, dst);
}
