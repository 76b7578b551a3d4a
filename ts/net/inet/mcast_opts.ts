// A socket's multicast state (Linux ip_sockglue.c + igmp.c ip_mc_*, ipv6_sockglue.c +
// mcast.c ipv6_sock_mc_*): IP_MULTICAST_{IF,TTL,LOOP,ALL} and their IPV6_ twins, the groups
// it joined (IP_ADD_MEMBERSHIP, MCAST_JOIN_GROUP, IPV6_JOIN_GROUP) with their source filters
// (IP_ADD_SOURCE_MEMBERSHIP, IP_BLOCK_SOURCE, MCAST_*_SOURCE*), each join counted on the
// interface's group table (../../tcpip/multicast.ts), and the two questions a datagram to a
// group asks: which interface and source it leaves by, and whether a socket takes it.
// IP_MSFILTER and MCAST_MSFILTER read and replace a membership's whole filter (mode and list):
// ip_mc_msfilter / ip_mc_msfget / ip_mc_gsfget and ip6_mc_msfilter / ip6_mc_msfget.

import { SyscallError, fail } from '../../kernel/syscall_error';
import { EADDRINUSE, EADDRNOTAVAIL, EINVAL, ENETUNREACH, ENOBUFS, ENODEV, ENOPROTOOPT, EPROTO } from '../../abi/linux/errno';
import { AF_INET, AF_INET6 } from '../../abi/linux/socket';
import { addrEqual, type IPAddr } from '../../tcpip/addr';
import { IFF_MULTICAST, IFF_UP, RT_SCOPE_HOST, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE, type NicInfo } from '../../tcpip/nic';
import { isMulticast } from '../../tcpip/multicast';
import type { Stack } from '../../tcpip/stack';
import { intOf, ints } from './inet_opts';

const IP_MULTICAST_IF = 32;
const IP_MULTICAST_TTL = 33;
const IP_MULTICAST_LOOP = 34;
const IP_ADD_MEMBERSHIP = 35;
const IP_DROP_MEMBERSHIP = 36;
const IP_UNBLOCK_SOURCE = 37;
const IP_BLOCK_SOURCE = 38;
const IP_ADD_SOURCE_MEMBERSHIP = 39;
const IP_DROP_SOURCE_MEMBERSHIP = 40;
const MCAST_JOIN_GROUP = 42;
const MCAST_BLOCK_SOURCE = 43;
const MCAST_UNBLOCK_SOURCE = 44;
const MCAST_LEAVE_GROUP = 45;
const MCAST_JOIN_SOURCE_GROUP = 46;
const MCAST_LEAVE_SOURCE_GROUP = 47;
const IP_MSFILTER = 41;
const MCAST_MSFILTER = 48;
const IP_MULTICAST_ALL = 49;
const IPV6_MULTICAST_IF = 17;
const IPV6_MULTICAST_HOPS = 18;
const IPV6_MULTICAST_LOOP = 19;
const IPV6_ADD_MEMBERSHIP = 20;
const IPV6_DROP_MEMBERSHIP = 21;
const IPV6_MULTICAST_ALL = 29;

const IP_MREQN_SIZE = 12;
const IP_MREQ_SOURCE_SIZE = 12;
const IPV6_MREQ_SIZE = 20;
/** struct group_req and group_source_req on x86-64: an interface index, padding, and one or
 *  two sockaddr_storage. */
const GROUP_REQ_SIZE = 136;
const GROUP_SOURCE_REQ_SIZE = 264;
/** IP_MSFILTER_SIZE(0) (multiaddr, interface, fmode, numsrc) and GROUP_FILTER_SIZE(0)
 *  (interface, padding, group, fmode, numsrc); each source then takes 4 or 128 bytes. */
const IP_MSFILTER_HEAD = 16;
const GROUP_FILTER_HEAD = 144;
const SOCKADDR_STORAGE = 128;
/** net.core.optmem_max: a longer filter is ENOBUFS. */
const OPTMEM_MAX = 131072;
/** net.ipv4.igmp_max_memberships, igmp_max_msf, net.ipv6.mld_max_msf. */
const IGMP_MAX_MEMBERSHIPS = 20;
const IGMP_MAX_MSF = 10;
const MLD_MAX_MSF = 64;

const MCAST_EXCLUDE = 0;
const MCAST_INCLUDE = 1;

const OPTS4 = new Set([IP_MULTICAST_IF, IP_MULTICAST_TTL, IP_MULTICAST_LOOP, IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP,
  IP_UNBLOCK_SOURCE, IP_BLOCK_SOURCE, IP_ADD_SOURCE_MEMBERSHIP, IP_DROP_SOURCE_MEMBERSHIP, MCAST_JOIN_GROUP,
  MCAST_BLOCK_SOURCE, MCAST_UNBLOCK_SOURCE, MCAST_LEAVE_GROUP, MCAST_JOIN_SOURCE_GROUP, MCAST_LEAVE_SOURCE_GROUP, IP_MULTICAST_ALL,
  IP_MSFILTER, MCAST_MSFILTER]);
const OPTS6 = new Set([IPV6_MULTICAST_IF, IPV6_MULTICAST_HOPS, IPV6_MULTICAST_LOOP, IPV6_ADD_MEMBERSHIP, IPV6_DROP_MEMBERSHIP,
  IPV6_MULTICAST_ALL, MCAST_JOIN_GROUP, MCAST_BLOCK_SOURCE, MCAST_UNBLOCK_SOURCE, MCAST_LEAVE_GROUP, MCAST_JOIN_SOURCE_GROUP,
  MCAST_LEAVE_SOURCE_GROUP, MCAST_MSFILTER]);

/** One group a socket joined on one interface, with its source filter. */
interface Membership { group: IPAddr; ifindex: number; ifaddr: IPAddr | null; mode: number; sources: IPAddr[]; takes: (src: IPAddr) => boolean }

function membership(group: IPAddr, ifindex: number, ifaddr: IPAddr | null, mode: number): Membership {
  const m: Membership = {
    group: group.slice(), ifindex, ifaddr: ifaddr?.slice() ?? null, mode, sources: [],
    takes: (src) => m.sources.some((s) => addrEqual(s, src)) === (m.mode === MCAST_INCLUDE),
  };
  return m;
}

/** Where a datagram to a group goes: the interface, its source, hop limit, and whether a
 *  copy comes back to this host's members. */
export interface McastRoute { nic: NicInfo; src: IPAddr; ttl: number; loop: boolean }

function v4At(val: Uint8Array, off: number): IPAddr { return val.slice(off, off + 4); }
function u32At(val: Uint8Array, off: number): number { return new DataView(val.buffer, val.byteOffset).getUint32(off, true); }
function isZero(a: IPAddr | null): boolean { return a === null || a.every((b) => b === 0); }

export class McastSock {
  ttl = 1;
  loop = true;
  /** IP_MULTICAST_IF: an interface index, and the address it was named by (0.0.0.0: none). */
  ifindex = 0;
  ifaddr: IPAddr = new Uint8Array(4);
  all = true;
  hops = 1;
  loop6 = true;
  oif6 = 0;
  all6 = true;
  private readonly list: Membership[] = [];

  /** stream: a TCP socket, which may not join and has no multicast interface or TTL. */
  constructor(private readonly stack: Stack, private readonly stream: boolean) {}

  /** Bytes of a group_req or group_source_req option (the larger values), 0 for others. */
  static valueSize(level: number, name: number): number {
    if (level !== 0 && level !== 41) return 0;
    // A filter list is read whole, up to one byte past optmem_max (which is ENOBUFS).
    if ((level === 0 && name === IP_MSFILTER) || name === MCAST_MSFILTER) return OPTMEM_MAX + 1;
    if (name === MCAST_JOIN_GROUP || name === MCAST_LEAVE_GROUP) return GROUP_REQ_SIZE;
    return name >= MCAST_BLOCK_SOURCE && name <= MCAST_LEAVE_SOURCE_GROUP ? GROUP_SOURCE_REQ_SIZE : 0;
  }

  /** For getsockopt of IP_MSFILTER / MCAST_MSFILTER: the bytes of the caller's buffer read
   *  first (EINVAL when optlen is shorter); 0 for any other option. */
  static msfilterHeader(v6: boolean, name: number): number {
    if (name === MCAST_MSFILTER) return GROUP_FILTER_HEAD;
    return !v6 && name === IP_MSFILTER ? IP_MSFILTER_HEAD : 0;
  }

  /** The options of level IP (v6: false) or IPV6 (true) this file owns. */
  static owns(v6: boolean, name: number): boolean { return (v6 ? OPTS6 : OPTS4).has(name); }

  get(v6: boolean, name: number): Uint8Array {
    if (!v6) {
      switch (name) {
        case IP_MULTICAST_TTL: return ints(this.ttl);
        case IP_MULTICAST_LOOP: return ints(this.loop ? 1 : 0);
        case IP_MULTICAST_ALL: return ints(this.all ? 1 : 0);
        case IP_MULTICAST_IF: return this.ifaddr.slice();
        default: fail(ENOPROTOOPT);
      }
    }
    switch (name) {
      case IPV6_MULTICAST_HOPS: return ints(this.hops);
      case IPV6_MULTICAST_LOOP: return ints(this.loop6 ? 1 : 0);
      case IPV6_MULTICAST_ALL: return ints(this.all6 ? 1 : 0);
      case IPV6_MULTICAST_IF: return ints(this.oif6);
      default: fail(ENOPROTOOPT);
    }
  }

  set(v6: boolean, name: number, val: Uint8Array): void {
    if (v6) this.set6(name, val);
    else this.set4(name, val);
  }

  private set4(name: number, val: Uint8Array): void {
    const stream = this.stream;
    switch (name) {
      case IP_MULTICAST_TTL: {
        if (stream || val.length < 1) fail(EINVAL);
        let v = intOf(val);
        if (v === -1) v = 1;
        if (v < 0 || v > 255) fail(EINVAL);
        this.ttl = v;
        return;
      }
      case IP_MULTICAST_LOOP:
        this.loop = intOf(val) !== 0;
        return;
      case IP_MULTICAST_ALL: {
        const v = intOf(val);
        if (v !== 0 && v !== 1) fail(EINVAL);
        this.all = v === 1;
        return;
      }
      case IP_MULTICAST_IF: return this.setIf4(val);
      case IP_ADD_MEMBERSHIP:
      case IP_DROP_MEMBERSHIP: {
        if (val.length < 8) fail(EINVAL);
        if (stream) fail(EPROTO);
        const ifindex = val.length >= IP_MREQN_SIZE ? u32At(val, 8) : 0;
        if (name === IP_ADD_MEMBERSHIP) this.join4(v4At(val, 0), v4At(val, 4), ifindex, MCAST_EXCLUDE);
        else this.leave4(v4At(val, 0), v4At(val, 4), ifindex);
        return;
      }
      case IP_ADD_SOURCE_MEMBERSHIP: case IP_DROP_SOURCE_MEMBERSHIP: case IP_BLOCK_SOURCE: case IP_UNBLOCK_SOURCE: {
        if (val.length !== IP_MREQ_SOURCE_SIZE) fail(EINVAL);
        if (stream) fail(EPROTO);
        const [group, ifaddr, source] = [v4At(val, 0), v4At(val, 4), v4At(val, 8)];
        if (name === IP_ADD_SOURCE_MEMBERSHIP) this.joinQuietly(() => this.join4(group, ifaddr, 0, MCAST_INCLUDE));
        const include = name === IP_ADD_SOURCE_MEMBERSHIP || name === IP_DROP_SOURCE_MEMBERSHIP;
        const add = name === IP_ADD_SOURCE_MEMBERSHIP || name === IP_BLOCK_SOURCE;
        this.source4(add, include ? MCAST_INCLUDE : MCAST_EXCLUDE, group, ifaddr, 0, source);
        return;
      }
      case MCAST_JOIN_GROUP: case MCAST_LEAVE_GROUP: {
        if (val.length < GROUP_REQ_SIZE) fail(EINVAL);
        if ((val[8] | (val[9] << 8)) !== AF_INET) fail(EINVAL);
        const ifindex = u32At(val, 0);
        if (name === MCAST_JOIN_GROUP) this.join4(v4At(val, 12), null, ifindex, MCAST_EXCLUDE);
        else this.leave4(v4At(val, 12), null, ifindex);
        return;
      }
      case IP_MSFILTER: {
        if (val.length < IP_MSFILTER_HEAD) fail(EINVAL);
        if (val.length > OPTMEM_MAX) fail(ENOBUFS);
        const n = u32At(val, 12);
        if (n > IGMP_MAX_MSF) fail(ENOBUFS);
        if (IP_MSFILTER_HEAD + 4 * n > val.length) fail(EINVAL);
        const sources = Array.from({ length: n }, (_, i) => v4At(val, IP_MSFILTER_HEAD + 4 * i));
        return this.msfilter4(v4At(val, 0), v4At(val, 4), 0, u32At(val, 8), sources);
      }
      case MCAST_MSFILTER: return this.groupFilter(false, val);
      default: return this.groupSource(false, name, val);
    }
  }

  /** ip_set_mcast_msfilter / ipv6_set_mcast_msfilter: a struct group_filter, then its list. */
  private groupFilter(v6: boolean, val: Uint8Array): void {
    if (v6 && this.stream) fail(EPROTO);
    if (val.length < GROUP_FILTER_HEAD) fail(EINVAL);
    if (val.length > OPTMEM_MAX) fail(ENOBUFS);
    const n = u32At(val, 140);
    if (n > (v6 ? MLD_MAX_MSF : IGMP_MAX_MSF)) fail(ENOBUFS);
    if (GROUP_FILTER_HEAD + SOCKADDR_STORAGE * n > val.length) fail(EINVAL);
    const at = (i: number): number => GROUP_FILTER_HEAD + SOCKADDR_STORAGE * i;
    const ifindex = u32At(val, 0);
    const fmode = u32At(val, 136);
    if (v6) {
      // ip6_mc_msfilter takes each sin6_addr as it is, whatever the family says.
      this.msfilter6(val.slice(16, 32), ifindex, fmode, Array.from({ length: n }, (_, i) => val.slice(at(i) + 8, at(i) + 24)));
      return;
    }
    // set_mcast_msfilter: the group and every source must be AF_INET.
    const fam = (off: number): number => val[off] | (val[off + 1] << 8);
    if (fam(8) !== AF_INET) fail(EADDRNOTAVAIL);
    for (let i = 0; i < n; i++) if (fam(at(i)) !== AF_INET) fail(EADDRNOTAVAIL);
    this.msfilter4(v4At(val, 12), new Uint8Array(4), ifindex, fmode, Array.from({ length: n }, (_, i) => v4At(val, at(i) + 4)));
  }

  /** ip_mc_msfilter: replace the filter of the membership (group, the interface found as a
   *  join finds it); (INCLUDE, no sources) leaves the group. */
  private msfilter4(group: IPAddr, ifaddr: IPAddr, ifindex: number, fmode: number, sources: IPAddr[]): void {
    if (!isMulticast(group) || group.length !== 4) fail(EINVAL);
    if (fmode !== MCAST_INCLUDE && fmode !== MCAST_EXCLUDE) fail(EINVAL);
    const nic = this.findDev4(group, ifaddr, ifindex);
    if (!nic) fail(ENODEV);
    if (fmode === MCAST_INCLUDE && sources.length === 0) { this.leave4(group, ifaddr, nic.index); return; }
    const m = this.list.find((x) => x.group.length === 4 && addrEqual(x.group, group) && x.ifindex === nic.index);
    if (!m) fail(EINVAL);
    m.mode = fmode;
    m.sources = sources;
  }

  /** ip6_mc_msfilter. */
  private msfilter6(group: IPAddr, ifindex: number, fmode: number, sources: IPAddr[]): void {
    if (!isMulticast(group) || group.length !== 16) fail(EINVAL);
    if (fmode !== MCAST_INCLUDE && fmode !== MCAST_EXCLUDE) fail(EINVAL);
    const nic = ifindex ? this.stack.nicByIndex(ifindex) : this.stack.routeOutput(group)?.nic ?? null;
    if (!nic) fail(ENODEV);
    if (fmode === MCAST_INCLUDE && sources.length === 0) { this.leave6(group, ifindex); return; }
    const m = this.list.find((x) => x.group.length === 16 && x.ifindex === ifindex && addrEqual(x.group, group));
    if (!m) fail(EINVAL);
    m.mode = fmode;
    m.sources = sources;
  }

  /** getsockopt IP_MSFILTER (ip_mc_msfget) or MCAST_MSFILTER (ip_mc_gsfget, ip6_mc_msfget):
   *  head is the caller's header; the answer is the header with the mode and the full count
   *  of sources, then as many sources as the caller's count asked for. */
  getMsfilter(v6: boolean, name: number, head: Uint8Array): Uint8Array {
    const out = head.slice();
    const dv = new DataView(out.buffer);
    if (name === IP_MSFILTER) {
      const group = v4At(head, 0);
      if (!isMulticast(group)) fail(EINVAL);
      const nic = this.findDev4(group, v4At(head, 4), 0);
      if (!nic) fail(ENODEV);
      const m = this.list.find((x) => x.group.length === 4 && addrEqual(x.group, group) && x.ifindex === nic.index);
      if (!m) fail(EADDRNOTAVAIL);
      const copy = Math.min(m.sources.length, dv.getUint32(12, true));
      dv.setUint32(8, m.mode, true);
      dv.setUint32(12, m.sources.length, true);
      const r = new Uint8Array(IP_MSFILTER_HEAD + 4 * copy);
      r.set(out);
      m.sources.slice(0, copy).forEach((s, i) => r.set(s, IP_MSFILTER_HEAD + 4 * i));
      return r;
    }
    const fam = head[8] | (head[9] << 8);
    if (fam !== (v6 ? AF_INET6 : AF_INET)) fail(v6 ? EADDRNOTAVAIL : EINVAL);
    const group = v6 ? head.slice(16, 32) : v4At(head, 12);
    if (!isMulticast(group)) fail(EINVAL);
    const ifindex = dv.getUint32(0, true);
    const m = this.list.find((x) => x.group.length === group.length && addrEqual(x.group, group) && x.ifindex === ifindex);
    if (!m) fail(EADDRNOTAVAIL);
    const copy = Math.min(m.sources.length, dv.getUint32(140, true));
    dv.setUint32(136, m.mode, true);
    dv.setUint32(140, m.sources.length, true);
    const r = new Uint8Array(GROUP_FILTER_HEAD + SOCKADDR_STORAGE * copy);
    r.set(out);
    m.sources.slice(0, copy).forEach((s, i) => {
      const at = GROUP_FILTER_HEAD + SOCKADDR_STORAGE * i;
      r[at] = v6 ? AF_INET6 : AF_INET;
      r.set(s, at + (v6 ? 8 : 4));
    });
    return r;
  }

  private set6(name: number, val: Uint8Array): void {
    const stream = this.stream;
    if (val.length < 4 && name !== MCAST_JOIN_GROUP && name !== MCAST_LEAVE_GROUP && name !== IPV6_ADD_MEMBERSHIP && name !== IPV6_DROP_MEMBERSHIP) fail(EINVAL);
    switch (name) {
      case IPV6_MULTICAST_HOPS: {
        if (stream) fail(ENOPROTOOPT);
        const v = intOf(val);
        if (v > 255 || v < -1) fail(EINVAL);
        this.hops = v === -1 ? 1 : v;
        return;
      }
      case IPV6_MULTICAST_LOOP: {
        const v = intOf(val);
        if (v !== 0 && v !== 1) fail(EINVAL);
        this.loop6 = v === 1;
        return;
      }
      case IPV6_MULTICAST_ALL:
        this.all6 = intOf(val) !== 0;
        return;
      case IPV6_MULTICAST_IF: {
        if (stream) fail(ENOPROTOOPT);
        const v = intOf(val);
        if (v !== 0 && this.stack.nicByIndex(v) === null) fail(ENODEV);
        this.oif6 = v;
        return;
      }
      case IPV6_ADD_MEMBERSHIP: case IPV6_DROP_MEMBERSHIP: {
        if (val.length < IPV6_MREQ_SIZE) fail(EINVAL);
        if (stream) fail(EPROTO);
        const group = val.slice(0, 16);
        if (name === IPV6_ADD_MEMBERSHIP) this.join6(group, u32At(val, 16), MCAST_EXCLUDE);
        else this.leave6(group, u32At(val, 16));
        return;
      }
      case MCAST_JOIN_GROUP: case MCAST_LEAVE_GROUP: {
        if (stream) fail(EPROTO);
        if (val.length < GROUP_REQ_SIZE) fail(EINVAL);
        if ((val[8] | (val[9] << 8)) !== AF_INET6) fail(EADDRNOTAVAIL);
        const group = val.slice(16, 32);
        if (name === MCAST_JOIN_GROUP) this.join6(group, u32At(val, 0), MCAST_EXCLUDE);
        else this.leave6(group, u32At(val, 0));
        return;
      }
      case MCAST_MSFILTER: return this.groupFilter(true, val);
      default: return this.groupSource(true, name, val);
    }
  }

  /** MCAST_{JOIN,LEAVE}_SOURCE_GROUP and MCAST_{BLOCK,UNBLOCK}_SOURCE (do_mcast_group_source). */
  private groupSource(v6: boolean, name: number, val: Uint8Array): void {
    if (v6 && this.stream) fail(EPROTO);
    if (val.length < GROUP_SOURCE_REQ_SIZE) fail(EINVAL);
    const fam = v6 ? AF_INET6 : AF_INET;
    if ((val[8] | (val[9] << 8)) !== fam || (val[136] | (val[137] << 8)) !== fam) fail(EADDRNOTAVAIL);
    const group = v6 ? val.slice(16, 32) : v4At(val, 12);
    const source = v6 ? val.slice(144, 160) : v4At(val, 140);
    let ifindex = u32At(val, 0);
    const include = name === MCAST_JOIN_SOURCE_GROUP || name === MCAST_LEAVE_SOURCE_GROUP;
    const add = name === MCAST_JOIN_SOURCE_GROUP || name === MCAST_BLOCK_SOURCE;
    if (name === MCAST_JOIN_SOURCE_GROUP) {
      this.joinQuietly(() => { ifindex = v6 ? this.join6(group, ifindex, MCAST_INCLUDE) : this.join4(group, null, ifindex, MCAST_INCLUDE); });
    }
    if (v6) this.source6(add, include ? MCAST_INCLUDE : MCAST_EXCLUDE, group, ifindex, source);
    else this.source4(add, include ? MCAST_INCLUDE : MCAST_EXCLUDE, group, null, ifindex, source);
  }

  /** A source join over an existing membership is no error (the filter decides). */
  private joinQuietly(join: () => void): void {
    try {
      join();
    } catch (e) {
      if (!(e instanceof SyscallError) || e.errno !== EADDRINUSE) throw e;
    }
  }

  /** do_ip_setsockopt(IP_MULTICAST_IF): an in_addr, an ip_mreq or an ip_mreqn. */
  private setIf4(val: Uint8Array): void {
    if (this.stream || val.length < 4) fail(EINVAL);
    let addr: IPAddr;
    let ifindex = 0;
    if (val.length >= IP_MREQN_SIZE) { addr = v4At(val, 4); ifindex = u32At(val, 8); }
    else if (val.length >= 8) addr = v4At(val, 4);
    else addr = v4At(val, 0);
    if (ifindex === 0) {
      if (isZero(addr)) { this.ifindex = 0; this.ifaddr = new Uint8Array(4); return; }
      const nic = this.nicWithAddress(addr);
      if (!nic) fail(EADDRNOTAVAIL);
      ifindex = nic.index;
    } else if (this.stack.nicByIndex(ifindex) === null) {
      fail(EADDRNOTAVAIL);
    }
    this.ifindex = ifindex;
    this.ifaddr = addr;
  }

  private nicWithAddress(a: IPAddr): NicInfo | null {
    return this.stack.nics().find((n) => n.addrs.some((x) => addrEqual(x.addr, a))) ?? null;
  }

  /** ip_mc_find_dev: the interface by index, else by address, else by the route to group. */
  private findDev4(group: IPAddr, ifaddr: IPAddr | null, ifindex: number): NicInfo | null {
    if (ifindex) return this.stack.nicByIndex(ifindex);
    if (!isZero(ifaddr)) return this.nicWithAddress(ifaddr as IPAddr);
    return this.stack.routeOutput(group)?.nic ?? null;
  }

  /** ip_mc_join_group(_ssm): the resolved interface index. */
  private join4(group: IPAddr, ifaddr: IPAddr | null, ifindex: number, mode: number): number {
    if (!isMulticast(group) || group.length !== 4) fail(EINVAL);
    const nic = this.findDev4(group, ifaddr, ifindex);
    if (!nic) fail(ENODEV);
    const mine = this.list.filter((m) => m.group.length === 4);
    if (mine.some((m) => addrEqual(m.group, group) && m.ifindex === nic.index)) fail(EADDRINUSE);
    if (mine.length >= IGMP_MAX_MEMBERSHIPS) fail(ENOBUFS);
    this.add(membership(group, nic.index, ifaddr, mode));
    return nic.index;
  }

  /** ip_mc_leave_group. */
  private leave4(group: IPAddr, ifaddr: IPAddr | null, ifindex: number): void {
    const nic = this.findDev4(group, ifaddr, ifindex);
    if (!ifindex && isZero(ifaddr) && !nic) fail(ENODEV);
    const idx = ifindex || (isZero(ifaddr) ? nic?.index ?? 0 : 0);
    const m = this.list.find((x) => x.group.length === 4 && addrEqual(x.group, group)
      && (idx ? x.ifindex === idx : isZero(ifaddr) || (x.ifaddr !== null && addrEqual(x.ifaddr, ifaddr as IPAddr))));
    if (!m) fail(EADDRNOTAVAIL);
    this.remove(m);
  }

  /** __ipv6_sock_mc_join: the resolved interface index. */
  private join6(group: IPAddr, ifindex: number, mode: number): number {
    if (!isMulticast(group) || group.length !== 16) fail(EINVAL);
    if (this.list.some((m) => m.group.length === 16 && (ifindex === 0 || m.ifindex === ifindex) && addrEqual(m.group, group))) fail(EADDRINUSE);
    const nic = ifindex ? this.stack.nicByIndex(ifindex) : this.stack.routeOutput(group)?.nic ?? null;
    if (!nic) fail(ENODEV);
    this.add(membership(group, nic.index, null, mode));
    return nic.index;
  }

  /** ipv6_sock_mc_drop. */
  private leave6(group: IPAddr, ifindex: number): void {
    if (!isMulticast(group) || group.length !== 16) fail(EINVAL);
    const m = this.list.find((x) => x.group.length === 16 && (ifindex === 0 || x.ifindex === ifindex) && addrEqual(x.group, group));
    if (!m) fail(EADDRNOTAVAIL);
    this.remove(m);
  }

  /** ip_mc_source. */
  private source4(add: boolean, mode: number, group: IPAddr, ifaddr: IPAddr | null, ifindex: number, source: IPAddr): void {
    if (!isMulticast(group) || group.length !== 4) fail(EINVAL);
    const nic = this.findDev4(group, ifaddr, ifindex);
    if (!nic) fail(ENODEV);
    const m = this.list.find((x) => x.group.length === 4 && addrEqual(x.group, group) && x.ifindex === nic.index);
    this.changeSources(m, add, mode, source, IGMP_MAX_MSF, () => this.leave4(group, ifaddr, nic.index));
  }

  /** ip6_mc_source. */
  private source6(add: boolean, mode: number, group: IPAddr, ifindex: number, source: IPAddr): void {
    if (!isMulticast(group)) fail(EINVAL);
    const nic = ifindex ? this.stack.nicByIndex(ifindex) : this.stack.routeOutput(group)?.nic ?? null;
    if (!nic) fail(ENODEV);
    const m = this.list.find((x) => x.group.length === 16 && (ifindex === 0 || x.ifindex === ifindex) && addrEqual(x.group, group));
    this.changeSources(m, add, mode, source, MLD_MAX_MSF, () => this.leave6(group, ifindex));
  }

  /** The filter-list edit both families share: a prior join is needed, the mode can change
   *  only while the list is empty, dropping the last source of an INCLUDE filter leaves. */
  private changeSources(m: Membership | undefined, add: boolean, mode: number, source: IPAddr, max: number, leave: () => void): void {
    if (!m) fail(EINVAL);
    if (m.sources.length > 0 && m.mode !== mode) fail(EINVAL);
    m.mode = mode;
    const i = m.sources.findIndex((s) => addrEqual(s, source));
    if (!add) {
      if (i < 0) fail(EADDRNOTAVAIL);
      if (m.sources.length === 1 && mode === MCAST_INCLUDE) { leave(); return; }
      m.sources.splice(i, 1);
      return;
    }
    if (m.sources.length >= max) fail(ENOBUFS);
    if (i >= 0) fail(EADDRNOTAVAIL);
    m.sources.push(source.slice());
  }

  private add(m: Membership): void {
    this.list.unshift(m);
    this.stack.mcast.join(m.ifindex, m.group, m.takes);
  }

  private remove(m: Membership): void {
    this.list.splice(this.list.indexOf(m), 1);
    this.stack.mcast.leave(m.ifindex, m.group, m.takes);
  }

  /** The socket is closed: its groups go (ip_mc_drop_socket, ipv6_sock_mc_close). */
  dropAll(): void {
    for (const m of [...this.list]) this.remove(m);
  }

  /** ip_mc_sf_allow / inet6_mc_check: whether a datagram to group from src that arrived on
   *  ifindex reaches this socket. Without a membership it is IP_MULTICAST_ALL's answer. */
  allows(group: IPAddr, src: IPAddr, ifindex: number): boolean {
    const v6 = group.length === 16;
    const m = this.list.find((x) => x.group.length === group.length && addrEqual(x.group, group) && (v6 || x.ifindex === ifindex));
    if (!m) return v6 ? this.all6 : this.all;
    return m.takes(src);
  }

  /** ip_route_output for a multicast destination (udp_sendmsg's mc_index/mc_addr, then
   *  inet_select_addr), or ip6_dst_lookup with mcast_oif; bound: the socket's own address. */
  route(dst: IPAddr, bound: IPAddr | null, scopeId: number): McastRoute {
    const v6 = dst.length === 16;
    const oif = v6 ? this.oif6 || scopeId : this.ifindex;
    const nic = oif ? this.stack.nicByIndex(oif) : this.stack.routeOutput(dst)?.nic ?? null;
    if (!nic || !(nic.flags & IFF_UP)) fail(ENETUNREACH);
    // IPv6 has a multicast route only on interfaces that do multicast (lo does not).
    if (v6 && !(nic.flags & IFF_MULTICAST)) fail(ENETUNREACH);
    let src = bound && bound.length === dst.length && !isZero(bound) ? bound : null;
    if (!src && !v6 && !isZero(this.ifaddr)) src = this.ifaddr;
    src ??= v6 ? this.stack.routeOutput(dst)?.src ?? this.sourceOn6(nic) : this.selectAddr4(nic, dst);
    if (!src) fail(ENETUNREACH);
    return { nic, src, ttl: v6 ? this.hops : this.ttl, loop: v6 ? this.loop6 : this.loop };
  }

  /** inet_select_addr(dev, 0, scope): an address of dev narrow enough for the scope, else
   *  the first fitting one of any interface (lo's 127.0.0.1 is host-scoped: never). */
  private selectAddr4(nic: NicInfo, dst: IPAddr): IPAddr | null {
    const scope = dst[0] === 224 && dst[1] === 0 && dst[2] === 0 ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
    const fits = (s: number): boolean => Math.min(s, RT_SCOPE_HOST) <= scope;
    const own = nic.addrs.find((x) => x.addr.length === 4 && fits(x.scope));
    if (own) return own.addr;
    for (const n of this.stack.nics()) {
      const a = n.addrs.find((x) => x.addr.length === 4 && x.scope !== RT_SCOPE_LINK && fits(x.scope));
      if (a) return a.addr;
    }
    return null;
  }

  private sourceOn6(nic: NicInfo): IPAddr | null {
    return nic.addrs.find((x) => x.addr.length === 16)?.addr ?? null;
  }
}
