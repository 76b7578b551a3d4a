// rtnetlink changes a privileged program may make to the sandbox's own stack (Linux
// inet_rtm_newaddr / inet_rtm_deladdr, inet6_rtm_newaddr / inet6_rtm_deladdr,
// inet_rtm_newroute / inet_rtm_delroute): addresses on an interface, IPv4 and IPv6, and IPv4
// unicast routes in the main table — what `ip addr add|del` and `ip route add|del` send.
// Checks and errnos as Linux: EINVAL for a prefix too long or no address, ENODEV for an
// interface that is not there, EEXIST for an address or route already there (NLM_F_EXCL, or
// no NLM_F_REPLACE for an address), EADDRNOTAVAIL / ESRCH for one that is not, ENETUNREACH
// for a gateway no on-link route reaches, ENOENT for a route without NLM_F_CREATE. Nothing
// here touches the host: the interfaces are the sentry's. Not modelled (EOPNOTSUPP): other
// route types and tables, IPv6 routes, link changes; no notification goes to multicast
// listeners.

import { EADDRNOTAVAIL, EEXIST, EINVAL, ENETUNREACH, ENODEV, ENOENT, ENOTSUP as EOPNOTSUPP, ESRCH } from '../../abi/linux/errno';
import { AF_INET, AF_INET6 } from '../../abi/linux/socket';
import { addrEqual, type IPAddr } from '../../tcpip/addr';
import { RT_SCOPE_LINK, RT_SCOPE_UNIVERSE, inPrefix, type RouteInfo } from '../../tcpip/nic';
import { networkOf } from '../../tcpip/route';
import type { Stack } from '../../tcpip/stack';
import { parseAttrs, type NlMsg } from './message';

export const RTM_DELADDR = 21;
export const RTM_DELROUTE = 25;
const RTM_NEWADDR = 20, RTM_NEWROUTE = 24;
const NLM_F_REPLACE = 0x100, NLM_F_EXCL = 0x200, NLM_F_CREATE = 0x400;
const IFA_ADDRESS = 1, IFA_LOCAL = 2, IFA_BROADCAST = 4;
const RTA_DST = 1, RTA_OIF = 4, RTA_GATEWAY = 5, RTA_PRIORITY = 6, RTA_PREFSRC = 7, RTA_TABLE = 15;
const RT_TABLE_UNSPEC = 0, RT_TABLE_MAIN = 254;
const RTN_UNICAST = 1;
const IFADDRMSG = 8, RTMSG = 12;

/** The errno of an admin request (0: done), or null when it is not one of ours. */
export function routeAdmin(stack: Stack, m: NlMsg): number | null {
  switch (m.type) {
    case RTM_NEWADDR: case RTM_DELADDR: return addrChange(stack, m, m.type === RTM_NEWADDR);
    case RTM_NEWROUTE: case RTM_DELROUTE: return routeChange(stack, m, m.type === RTM_NEWROUTE);
    default: return null;
  }
}

function addrChange(stack: Stack, m: NlMsg, add: boolean): number {
  if (m.payload.length < IFADDRMSG) return EINVAL;
  const family = m.payload[0];
  const prefixLen = m.payload[1];
  const index = new DataView(m.payload.buffer, m.payload.byteOffset + 4, 4).getUint32(0, true);
  if (family !== AF_INET && family !== AF_INET6) return EOPNOTSUPP;
  const len = family === AF_INET ? 4 : 16;
  const attrs = parseAttrs(m.payload.subarray(IFADDRMSG));
  // IPv4 wants IFA_LOCAL; IPv6 takes IFA_LOCAL, else IFA_ADDRESS.
  const raw = attrs.get(IFA_LOCAL) ?? (family === AF_INET6 ? attrs.get(IFA_ADDRESS) : undefined);
  if (prefixLen > len * 8) return EINVAL;
  const nic = stack.nicByIndex(index);
  if (add) {
    if (!raw || raw.length < len) return EINVAL;
    if (!nic) return ENODEV;
  } else {
    if (!nic) return ENODEV;
    if (!raw || raw.length < len) return family === AF_INET6 ? EINVAL : EADDRNOTAVAIL;
  }
  const addr: IPAddr = raw.slice(0, len);
  const have = nic.addrs.find((x) => x.prefixLen === prefixLen && addrEqual(x.addr, addr));
  if (!add) return stack.routeTable.removeAddress(nic, addr, prefixLen) ? 0 : EADDRNOTAVAIL;
  if (have) return (m.flags & NLM_F_EXCL) || !(m.flags & NLM_F_REPLACE) ? EEXIST : 0;
  const brd = attrs.get(IFA_BROADCAST);
  stack.routeTable.addAddress(nic, addr, prefixLen, family === AF_INET ? (brd && brd.length >= 4 ? brd.slice(0, 4) : null) : undefined);
  return 0;
}

function routeChange(stack: Stack, m: NlMsg, add: boolean): number {
  if (m.payload.length < RTMSG) return EINVAL;
  const p = m.payload;
  const family = p[0];
  const dstLen = p[1];
  if (family !== AF_INET) return EOPNOTSUPP;
  const attrs = parseAttrs(p.subarray(RTMSG));
  const tableAttr = attrs.get(RTA_TABLE);
  const table = tableAttr && tableAttr.length >= 4 ? new DataView(tableAttr.buffer, tableAttr.byteOffset, 4).getUint32(0, true) : p[4];
  if (table !== RT_TABLE_MAIN && table !== RT_TABLE_UNSPEC) return EOPNOTSUPP;
  if (add && p[7] !== RTN_UNICAST) return EOPNOTSUPP;
  if (dstLen > 32) return EINVAL;
  const ip4 = (a: Uint8Array | undefined): IPAddr | null => (a && a.length >= 4 ? a.slice(0, 4) : null);
  const u32 = (a: Uint8Array | undefined): number | null => (a && a.length >= 4 ? new DataView(a.buffer, a.byteOffset, 4).getUint32(0, true) : null);
  const dst = networkOf(ip4(attrs.get(RTA_DST)) ?? new Uint8Array(4), dstLen);
  const gateway = ip4(attrs.get(RTA_GATEWAY));
  const oif = u32(attrs.get(RTA_OIF));
  const metric = u32(attrs.get(RTA_PRIORITY)) ?? 0;
  const prefSrc = ip4(attrs.get(RTA_PREFSRC));
  // fib_table_lookup's match for a change: same prefix, same metric; a deletion also matches
  // on the next hop when it names one.
  const same = (r: RouteInfo): boolean => r.dst.length === 4 && r.prefixLen === dstLen && addrEqual(r.dst, dst) &&
    (add ? r.metric === metric : (attrs.get(RTA_PRIORITY) === undefined || r.metric === metric) &&
      (gateway === null || (r.gateway !== null && addrEqual(r.gateway, gateway))) && (oif === null || r.ifindex === oif));
  const existing = stack.routes().find(same);
  if (!add) return existing && stack.routeTable.removeRoute(existing) ? 0 : ESRCH;
  if (oif !== null && !stack.nicByIndex(oif)) return ENODEV;
  let ifindex = oif;
  if (gateway) {
    // fib_check_nh: the gateway must be on a link we have a route to (not through another
    // gateway), and not one of our own addresses.
    if (stack.isLocalAddress(gateway)) return EINVAL;
    const via = stack.routes().filter((r) => r.gateway === null && r.dst.length === 4 && inPrefix(gateway, r.dst, r.prefixLen) &&
      (oif === null || r.ifindex === oif)).sort((a, b) => b.prefixLen - a.prefixLen)[0];
    if (!via) return ENETUNREACH;
    ifindex = via.ifindex;
  }
  if (ifindex === null) return ENODEV;
  if (existing) return m.flags & NLM_F_EXCL ? EEXIST : 0;
  if (!(m.flags & NLM_F_CREATE)) return ENOENT;
  stack.routeTable.addRoute({ dst, prefixLen: dstLen, gateway, ifindex, prefSrc, metric, scope: gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK });
  return 0;
}
