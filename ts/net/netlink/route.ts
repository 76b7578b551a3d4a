// NETLINK_ROUTE's kernel side (Linux net/core/rtnetlink.c rtnetlink_rcv_msg, rtnl_fill_ifinfo,
// net/ipv4/devinet.c inet_fill_ifaddr, net/ipv6/addrconf.c, fib_dump_info, rt6_fill_node):
// RTM_GETLINK (dump, or one link by index or name), RTM_GETADDR and RTM_GETROUTE dumps, an
// IPv4 RTM_GETROUTE lookup ("ip route get"), RTM_GETNEIGH dumps (neigh.ts), with the attributes in the order Linux writes them. Changes (RTM_NEW*, DEL*, SET*) are EPERM
// without CAP_NET_ADMIN as in Linux; with it, addresses and IPv4 routes change the sandbox's
// stack (route_admin.ts) and the rest is EOPNOTSUPP. Other requests are EOPNOTSUPP, as for a
// type no handler registered.

import type { Task } from '../../kernel/task';
import { EINVAL, ENETUNREACH, ENODEV, ENOTSUP as EOPNOTSUPP, EPERM } from '../../abi/linux/errno';
import { AF_INET, AF_INET6 } from '../../abi/linux/socket';
import type { stackOf } from '../../tcpip/stack';
import { netStackOf } from '../../kernel/ns/net_ns';
import { nsproxyOf } from '../../kernel/ns/nsproxy';
import { linkAdmin } from './link_admin';
import {
  RTN_LOCAL, RTN_UNICAST, RT_TABLE_MAIN, interfaceByIndex, interfaceByName, netInterfaces, netRoutes, type IfAddr, type NetInterface,
  type Route,
} from '../interfaces';
import { NLM_F_DUMP, NLM_F_MULTI, NlWriter, parseAttrs, type NlMsg } from './message';
import { CAP_NET_ADMIN, type KernelAnswer, type NetlinkSocket } from './netlink_socket';
import { RTM_GETNEIGH, neighDump } from './neigh';
import { routeAdmin } from './route_admin';

export const RTM_NEWLINK = 16;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_GETROUTE = 26;
/** The last type rtnetlink knows (RTM_GETTUNNEL's group, rounded up to a group of four). */
const RTM_MAX = 123;
const RTNL_KIND_GET = 2;

// IFLA_*
const IFLA_ADDRESS = 1;
const IFLA_BROADCAST = 2;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_QDISC = 6;
const IFLA_STATS = 7;
const IFLA_TXQLEN = 13;
const IFLA_MAP = 14;
const IFLA_OPERSTATE = 16;
const IFLA_LINKMODE = 17;
const IFLA_STATS64 = 23;
const IFLA_GROUP = 27;
const IFLA_PROMISCUITY = 30;
const IFLA_NUM_TX_QUEUES = 31;
const IFLA_NUM_RX_QUEUES = 32;
const IFLA_CARRIER = 33;
const IFLA_CARRIER_CHANGES = 35;
const IFLA_PROTO_DOWN = 39;
const IFLA_GSO_MAX_SEGS = 40;
const IFLA_GSO_MAX_SIZE = 41;
const IFLA_CARRIER_UP_COUNT = 47;
const IFLA_CARRIER_DOWN_COUNT = 48;
const IFLA_MIN_MTU = 50;
const IFLA_MAX_MTU = 51;
const IFLA_ALT_IFNAME = 53;
const IFLA_GRO_MAX_SIZE = 58;
const IFLA_ALLMULTI = 61;
// IFA_*
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;
const IFA_BROADCAST = 4;
const IFA_CACHEINFO = 6;
const IFA_FLAGS = 8;
const INFINITY_LIFE_TIME = 0xffffffff;
// RTA_*
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_PREFSRC = 7;
const RTA_CACHEINFO = 12;
const RTA_TABLE = 15;
const RTA_PREF = 20;
const RT_TABLE_COMPAT = 252;

const IFINFOMSG = 16;
const IFADDRMSG = 8;
const RTMSG = 12;

function answer(msgs: Uint8Array[], dump: boolean): KernelAnswer { return { msgs, dump, err: 0 }; }
function error(err: number): KernelAnswer { return { msgs: [], dump: false, err }; }

export function routeRequest(t: Task, sock: NetlinkSocket, m: NlMsg): KernelAnswer {
  if (m.type > RTM_MAX) return error(EOPNOTSUPP);
  // Every rtnetlink message carries at least a family byte; an empty one is ignored.
  if (m.payload.length < 1) return answer([], false);
  const family = m.payload[0];
  const kind = (m.type - RTM_NEWLINK) & 3;
  const stack = netStackOf(t);
  if (kind !== RTNL_KIND_GET) {
    // CAP_NET_ADMIN over the user namespace that owns the network namespace.
    if (!t.creds.nsCapable(nsproxyOf(t).net.userNs, CAP_NET_ADMIN)) return error(EPERM);
    // Addresses and IPv4 routes of the sandbox's own stack (route_admin.ts); other changes
    // (links, neighbours, rules) are not modelled.
    const err = routeAdmin(stack, m) ?? linkAdmin(stack, m);
    return error(err ?? EOPNOTSUPP);
  }
  const dump = (m.flags & NLM_F_DUMP) !== 0;
  const w = new NlWriter();
  const seq = m.seq;
  const pid = sock.portid;
  switch (m.type) {
    case RTM_GETLINK:
      if (dump && family === AF_INET6) return answer(netInterfaces(stack).map((nic) => inet6LinkMsg(w, nic, seq, pid)), true);
      if (dump) return answer(netInterfaces(stack).map((nic) => linkMsg(w, nic, NLM_F_MULTI, seq, pid)), true);
      return getLink(w, m, seq, pid, stack);
    case RTM_GETADDR: {
      if (!dump) return error(EOPNOTSUPP);
      const nics = netInterfaces(stack);
      const out: Uint8Array[] = [];
      for (const fam of [4, 16] as const) {
        if ((family === AF_INET && fam === 16) || (family === AF_INET6 && fam === 4)) continue;
        for (const nic of nics) for (const a of nic.addrs) if (a.addr.length === fam) out.push(addrMsg(w, nic, a, seq, pid));
      }
      return answer(out, true);
    }
    case RTM_GETROUTE: {
      if (!dump) return getRoute(t, w, m, seq, pid, stack);
      const out: Uint8Array[] = [];
      for (const fam of [4, 16] as const) {
        if ((family === AF_INET && fam === 16) || (family === AF_INET6 && fam === 4)) continue;
        for (const r of netRoutes(stack, fam)) out.push(routeMsg(w, r, seq, pid));
      }
      return answer(out, true);
    }
    case RTM_GETNEIGH:
      // One neighbour by address (neigh_get) is not modelled; the dump is.
      if (!dump) return error(EOPNOTSUPP);
      return answer(neighDump(stack, family, seq, pid), true);
    default:
      return error(EOPNOTSUPP);
  }
}

const RTA_UID = 25;
const RTM_F_CLONED = 0x200;
const RTCF_LOCAL = 0x80000000;

/** inet_rtm_getroute ("ip route get"): where a packet to RTA_DST would go, as the cloned
 *  route Linux answers with (the main and local tables are one trie there: table main). */
function getRoute(t: Task, w: NlWriter, m: NlMsg, seq: number, pid: number, stack: ReturnType<typeof stackOf>): KernelAnswer {
  if (m.payload.length < RTMSG) return error(EINVAL);
  const family = m.payload[0];
  // Only IPv4 has the lookup here; IPv6's (inet6_rtm_getroute) is not built.
  if (family !== AF_INET) return error(EOPNOTSUPP);
  const attrs = parseAttrs(m.payload.subarray(RTMSG));
  const dstAttr = attrs.get(RTA_DST);
  if (dstAttr && dstAttr.length < 4) return error(EINVAL);
  const dst = dstAttr ? dstAttr.slice(0, 4) : new Uint8Array(4);
  const r = stack.routeOutput(dst);
  if (!r) return error(ENETUNREACH);
  const local = stack.isLocalAddress(dst) || dst[0] === 127;
  w.begin(RTM_NEWROUTE, 0, seq, pid);
  const h = w.struct(RTMSG);
  h.setUint8(0, AF_INET);
  h.setUint8(1, 32);
  h.setUint8(4, RT_TABLE_MAIN);
  h.setUint8(7, local ? RTN_LOCAL : RTN_UNICAST);
  h.setUint32(8, RTM_F_CLONED | (local ? RTCF_LOCAL : 0), true);
  w.u32(RTA_TABLE, RT_TABLE_MAIN);
  w.attr(RTA_DST, dst);
  w.u32(RTA_OIF, r.nic.index);
  w.attr(RTA_PREFSRC, r.src);
  if (!local && r.nextHop.length === 4 && r.nextHop.some((b, i) => b !== dst[i])) w.attr(RTA_GATEWAY, r.nextHop);
  w.u32(RTA_UID, t.creds.uid);
  w.attr(RTA_CACHEINFO, new Uint8Array(32));
  w.end();
  return answer([w.take()], false);
}

/** rtnl_getlink: one link by ifi_index, else by IFLA_IFNAME / IFLA_ALT_IFNAME. */
function getLink(w: NlWriter, m: NlMsg, seq: number, pid: number, stack: ReturnType<typeof stackOf>): KernelAnswer {
  if (m.payload.length < IFINFOMSG) return error(EINVAL);
  const v = new DataView(m.payload.buffer, m.payload.byteOffset, IFINFOMSG);
  const index = v.getInt32(4, true);
  let nic: NetInterface | undefined;
  if (index > 0) {
    nic = interfaceByIndex(stack, index);
  } else {
    const attrs = parseAttrs(m.payload.subarray(IFINFOMSG));
    const name = attrs.get(IFLA_IFNAME) ?? attrs.get(IFLA_ALT_IFNAME);
    if (!name) return error(EINVAL);
    const end = name.indexOf(0);
    nic = interfaceByName(stack, new TextDecoder().decode(end >= 0 ? name.subarray(0, end) : name));
  }
  if (!nic) return error(ENODEV);
  return answer([linkMsg(w, nic, 0, seq, pid)], false);
}

/** An RTM_NEWLINK message and its struct ifinfomsg for `nic` (family AF_UNSPEC, or AF_INET6
 *  for the per-family dump). */
function beginLink(w: NlWriter, flags: number, seq: number, pid: number, family: number, nic: NetInterface): void {
  w.begin(RTM_NEWLINK, flags, seq, pid);
  const h = w.struct(IFINFOMSG);
  h.setUint8(0, family);
  h.setUint16(2, nic.type, true);
  h.setInt32(4, nic.index, true);
  h.setUint32(8, nic.flags, true);
}

function linkMsg(w: NlWriter, nic: NetInterface, flags: number, seq: number, pid: number): Uint8Array {
  beginLink(w, flags, seq, pid, 0, nic);
  w.str(IFLA_IFNAME, nic.name);
  w.u32(IFLA_TXQLEN, nic.txqlen);
  w.u8(IFLA_OPERSTATE, nic.operstate);
  w.u8(IFLA_LINKMODE, 0);
  w.u32(IFLA_MTU, nic.mtu);
  w.u32(IFLA_MIN_MTU, 0);
  w.u32(IFLA_MAX_MTU, 0);
  w.u32(IFLA_GROUP, 0);
  w.u32(IFLA_PROMISCUITY, 0);
  w.u32(IFLA_ALLMULTI, 0);
  w.u32(IFLA_NUM_TX_QUEUES, 1);
  w.u32(IFLA_GSO_MAX_SEGS, 65535);
  w.u32(IFLA_GSO_MAX_SIZE, 65536);
  w.u32(IFLA_GRO_MAX_SIZE, 65536);
  w.u32(IFLA_NUM_RX_QUEUES, 1);
  w.u8(IFLA_CARRIER, 1);
  w.u32(IFLA_CARRIER_CHANGES, 0);
  w.u32(IFLA_CARRIER_UP_COUNT, 0);
  w.u32(IFLA_CARRIER_DOWN_COUNT, 0);
  w.u8(IFLA_PROTO_DOWN, 0);
  w.attr(IFLA_ADDRESS, nic.hwaddr);
  w.attr(IFLA_BROADCAST, nic.hwbroadcast);
  const s = nic.stats;
  const s64 = new Uint8Array(25 * 8);
  const v64 = new DataView(s64.buffer);
  [s.rxPackets, s.txPackets, s.rxBytes, s.txBytes].forEach((x, i) => v64.setBigUint64(i * 8, BigInt(x), true));
  w.attr(IFLA_STATS64, s64);
  const s32 = new Uint8Array(24 * 4);
  const v32 = new DataView(s32.buffer);
  [s.rxPackets, s.txPackets, s.rxBytes, s.txBytes].forEach((x, i) => v32.setUint32(i * 4, x >>> 0, true));
  w.attr(IFLA_STATS, s32);
  w.str(IFLA_QDISC, nic.qdisc);
  // struct rtnl_link_ifmap: no memory window, irq, dma or port on these links.
  w.attr(IFLA_MAP, new Uint8Array(32));
  w.end();
  return w.take();
}

const IFLA_PROTINFO = 12;
const IFLA_INET6_FLAGS = 1;
const IFLA_INET6_ADDR_GEN_MODE = 8;
const IF_READY = 0x80000000;
const NLA_F_NESTED = 0x8000;

/** inet6_fill_ifinfo: what IPv6 keeps of a link (an RTM_GETLINK dump asked for AF_INET6). */
function inet6LinkMsg(w: NlWriter, nic: NetInterface, seq: number, pid: number): Uint8Array {
  beginLink(w, NLM_F_MULTI, seq, pid, AF_INET6, nic);
  w.str(IFLA_IFNAME, nic.name);
  w.attr(IFLA_ADDRESS, nic.hwaddr);
  w.u32(IFLA_MTU, nic.mtu);
  w.u8(IFLA_OPERSTATE, nic.operstate);
  const inner = new NlWriter();
  inner.u32(IFLA_INET6_FLAGS, IF_READY);
  inner.u8(IFLA_INET6_ADDR_GEN_MODE, 0);
  w.attr(IFLA_PROTINFO | NLA_F_NESTED, inner.take());
  w.end();
  return w.take();
}

function addrMsg(w: NlWriter, nic: NetInterface, a: IfAddr, seq: number, pid: number): Uint8Array {
  w.begin(RTM_NEWADDR, NLM_F_MULTI, seq, pid);
  const h = w.struct(IFADDRMSG);
  const v4 = a.addr.length === 4;
  h.setUint8(0, v4 ? AF_INET : AF_INET6);
  h.setUint8(1, a.prefix);
  h.setUint8(2, a.flags & 0xff);
  h.setUint8(3, a.scope);
  h.setUint32(4, nic.index, true);
  const cache = new Uint8Array(16);
  const cv = new DataView(cache.buffer);
  cv.setUint32(0, INFINITY_LIFE_TIME, true);
  cv.setUint32(4, INFINITY_LIFE_TIME, true);
  w.attr(IFA_ADDRESS, a.addr);
  if (v4) {
    w.attr(IFA_LOCAL, a.addr);
    if (a.broadcast) w.attr(IFA_BROADCAST, a.broadcast);
    w.str(IFA_LABEL, nic.name);
    w.u32(IFA_FLAGS, a.flags);
    w.attr(IFA_CACHEINFO, cache);
  } else {
    w.attr(IFA_CACHEINFO, cache);
    w.u32(IFA_FLAGS, a.flags);
  }
  w.end();
  return w.take();
}

function routeMsg(w: NlWriter, r: Route, seq: number, pid: number): Uint8Array {
  const v4 = r.dst.length === 4;
  w.begin(RTM_NEWROUTE, NLM_F_MULTI, seq, pid);
  const h = w.struct(RTMSG);
  h.setUint8(0, v4 ? AF_INET : AF_INET6);
  h.setUint8(1, r.prefix);
  h.setUint8(4, r.table < 256 ? r.table : RT_TABLE_COMPAT);
  h.setUint8(5, r.protocol);
  h.setUint8(6, r.scope);
  h.setUint8(7, r.type);
  w.u32(RTA_TABLE, r.table);
  if (r.prefix > 0) w.attr(RTA_DST, r.dst);
  if (r.priority !== null) w.u32(RTA_PRIORITY, r.priority);
  if (r.prefsrc) w.attr(RTA_PREFSRC, r.prefsrc);
  if (r.gateway) w.attr(RTA_GATEWAY, r.gateway);
  w.u32(RTA_OIF, r.ifindex);
  if (!v4) {
    w.attr(RTA_CACHEINFO, new Uint8Array(32));
    w.u8(RTA_PREF, 0);
  }
  w.end();
  return w.take();
}
