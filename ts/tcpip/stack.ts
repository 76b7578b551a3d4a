// The sandbox's TCP/IP stack (gVisor pkg/tcpip/stack; Linux net/ipv4, net/ipv6, net/core).
// ts/tcpip owns packets: the links (link/: loopback, and Ethernet with ARP for eth0), the
// interfaces and routing table (nic.ts, route.ts: local addresses go through lo, the rest by
// longest prefix match), the network layer (IPv4 and IPv6 headers with their checksums), ICMP
// port unreachable and echo, and the transports (udp/, tcp/) with their port reservations (ports.ts) and
// demultiplexing tables. Packets are byte buffers from end to end; nothing here touches a
// host socket, a task, the VFS or application memory, and nothing here knows errnos beyond
// the error an endpoint stores for its socket. The socket layer (ts/net/inet) is its only
// user: it creates endpoints, reserves ports and calls in; the stack calls back through each
// endpoint's owner.notify(). One Stack per sandbox (per Kernel).

import { V4_LOOPBACK, V6_LOOPBACK, addrEqual, addrKey, type IPAddr } from './addr';
import { LoopbackLink, LOOPBACK_MTU } from './link/loopback';
import { icmpErrorAllowed } from './icmp/ratelimit';
import { EthernetLink } from './link/ethernet';
import type { NicInfo, RouteInfo, RouteResult } from './nic';
import { RouteTable, loopbackNic } from './route';
import { IFF_UP } from './nic';
import { IPV4_HEADER, IPV4_MAX_PACKET, parseIPv4, writeIPv4Header, type IPv4Packet } from './header/ipv4';
import { IPV6_HEADER, parseIPv6, writeIPv6Header, type IPv6Packet } from './header/ipv6';
import { IPPROTO_TCP, TCP_HEADER, TH_ACK, TH_FIN, TH_RST, TH_SYN, parseTCP, writeTCP, type TCPSegment } from './header/tcp';
import { secureTcpSeq } from './tcp/secure_seq';
import { IPPROTO_UDP, UDP_HEADER, parseUDP } from './header/udp';
import {
  ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, IPPROTO_ICMP,
  IPPROTO_ICMPV6, parseICMP,
} from './header/icmp';
import { ICMPV6_ECHO_REQUEST, ICMP_ECHO, echoReply } from './icmp_echo';
import { icmpRawInput, icmpSocketsInput } from './icmp/endpoint';
import { icmpErrorInput, linkFailure } from './icmp/errors';
import { mibOf } from './mib';
import { EPHEMERAL_HIGH, EPHEMERAL_LOW, PortTable, flowHash, type Binding, type PortRange } from './ports';
import { filterKeep, type BpfProgram } from '../kernel/bpf';
import { TcpEndpoint } from './tcp/endpoint';
import { Slab } from './tcp/slab';
import { TCPS } from './tcp/states';
import type { UdpEndpoint } from './udp/endpoint';
import { WIDE_ZERO } from './wide_field';
import { McastTable, isMulticast } from './multicast';
import { rawSocketsInput } from './raw/endpoint';
import { finish, sum16 } from './checksum';
import { devMatches } from './bound_dev';
import { ipv4Defrag, ipv4Fragment } from './frag/ipv4';
import { IPPROTO_FRAGMENT, ipv6Defrag, ipv6Fragment } from './frag/ipv6';
import { pathMtu, pmtuOf } from './pmtu';
import { fillTransportChecksumOf } from './header/offload';
import { buildIcmpError } from './icmp/send_error';

export { TcpEndpoint } from './tcp/endpoint';
export { UdpEndpoint } from './udp/endpoint';

/** What the stack counts, for /proc/net/snmp-like views and tests. */
export interface StackStats { ipIn: number; ipDropped: number; tcpIn: number; udpIn: number; icmpIn: number }

/** Takes a TCP segment or UDP datagram no endpoint of a promiscuous stack claims (the NAT's
 *  gateway side, gVisor's tcp.Forwarder): true when it took it. */
export interface Forwarder {
  tcp(seg: TCPSegment, src: IPAddr, dst: IPAddr): boolean;
  udp(data: Uint8Array, src: IPAddr, sport: number, dst: IPAddr, dport: number): boolean;
}

/** A connection as registered: its 4-tuple then (the key of the conns map). */
export interface ConnEntry { ep: TcpEndpoint; local: IPAddr; remote: IPAddr; ports: number }

export class Stack {
  readonly loopback: LoopbackLink;
  /** net.ipv4.ip_local_port_range, for this stack alone. */
  readonly portRange: PortRange = { low: EPHEMERAL_LOW, high: EPHEMERAL_HIGH };
  readonly tcpPorts = new PortTable<TcpEndpoint>(true, this.portRange);
  readonly udpPorts = new PortTable<UdpEndpoint>(false, this.portRange);
  private readonly conns = new Map<string, TcpEndpoint>();
  /** conns again, by local and remote port (tcpInput's lookup without a string key). */
  private readonly connsByPorts = new Map<number, ConnEntry[]>();
  private readonly pendingAcks = new Set<TcpEndpoint>();
  /** Endpoints holding a delayed ACK (delayed_ack.ts). */
  readonly delayedAcks = new Set<TcpEndpoint>();
  private ipId = Math.floor(Math.random() * 0x10000);
  /** Where packets without data (ACKs, resets) come from. */
  private readonly headerSlab = new Slab();
  readonly stats: StackStats = { ipIn: 0, ipDropped: 0, tcpIn: 0, udpIn: 0, icmpIn: 0 };

  readonly lo: NicInfo = loopbackNic();
  private readonly links: EthernetLink[] = [];
  readonly routeTable = new RouteTable();
  /** Accept packets to any address (the NAT's gateway side), handing unclaimed flows to forwarder. */
  promiscuous = false;
  forwarder: Forwarder | null = null;

  readonly mcast: McastTable;

  constructor() {
    this.loopback = new LoopbackLink((p, offloaded) => this.deliver(p, this.lo, offloaded), () => this.flushAcks());
    this.mcast = new McastTable(() => this.routeTable.nics, (p, nic, offloaded) => this.deliver(p, nic, offloaded), () => this.flushAcks());
    this.routeTable.addNic(this.lo);
  }

  // --- interfaces and routes (nic.ts) ---

  /** Every interface, by index. */
  nics(): readonly NicInfo[] { return this.routeTable.nics; }

  /** The main routing table. */
  routes(): readonly RouteInfo[] { return this.routeTable.routes; }

  nicByIndex(index: number): NicInfo | null { return this.routeTable.nics.find((n) => n.index === index) ?? null; }

  nicByName(name: string): NicInfo | null { return this.routeTable.nics.find((n) => n.name === name) ?? null; }

  /** Add an Ethernet-like interface (its peer is attached by the caller). */
  addEthernet(name: string, mac: Uint8Array): EthernetLink {
    const index = Math.max(...this.routeTable.nics.map((n) => n.index)) + 1;
    const link = new EthernetLink({
      deliver: (p, nic, offloaded) => this.deliver(p, nic, offloaded), drained: () => this.flushAcks(),
      linkFailure: (p) => linkFailure(this, p),
    }, index, name, mac);
    this.links.push(link);
    this.routeTable.addNic(link.info);
    return link;
  }

  /** The resolved neighbours (ARP, then NDP caches), for /proc/net/arp and RTM_GETNEIGH. */
  neighbours(): { ip: IPAddr; mac: Uint8Array; ifindex: number; reachable: boolean }[] {
    const out: { ip: IPAddr; mac: Uint8Array; ifindex: number; reachable: boolean }[] = [];
    for (const l of this.links) for (const n of l.arp.resolved()) out.push({ ...n, ifindex: l.info.index });
    for (const l of this.links) for (const n of l.ndp.resolved()) out.push({ ...n, ifindex: l.info.index });
    return out;
  }

  /** A multicast group, the limited broadcast, or an interface's subnet broadcast. */
  isBroadcastOrMulticast(a: IPAddr): boolean { return this.routeTable.isBroadcastOrMulticast(a); }

  /** An address of this host (any interface's, or the loopback nets): bind may take it and
   *  packets to it are delivered here. */
  isLocalAddress(a: IPAddr): boolean { return this.routeTable.isLocal(a); }

  // --- network layer out ---

  ipHeaderLen(v6: boolean): number { return v6 ? IPV6_HEADER : IPV4_HEADER; }

  /** The largest TCP payload for the loopback MTU (and IPv4's 64 KiB total length). */
  mssFor(v6: boolean): number {
    return v6 ? LOOPBACK_MTU - IPV6_HEADER - TCP_HEADER : IPV4_MAX_PACKET - IPV4_HEADER - TCP_HEADER;
  }

  /** Largest UDP payload of one datagram. */
  maxDatagram(v6: boolean): number {
    return v6 ? 0xffff - UDP_HEADER : IPV4_MAX_PACKET - IPV4_HEADER - UDP_HEADER;
  }

  /** ip_route_output: the source address for dst, or null when no route reaches it. */
  route(dst: IPAddr): IPAddr | null {
    return this.routeOutput(dst)?.src ?? null;
  }

  /** ip_route_output in full: interface, source and next hop (lo for a local address). */
  routeOutput(dst: IPAddr): RouteResult | null {
    if (this.routeTable.isLocal(dst)) {
      // Nothing reaches a loopback address while lo is down (a new network namespace's is).
      if ((this.lo.flags & IFF_UP) === 0) return null;
      const src = dst[0] === 127 && dst.length === 4 ? V4_LOOPBACK : dst.length === 16 && dst[0] === 0 ? V6_LOOPBACK : dst;
      return { nic: this.lo, src, nextHop: dst };
    }
    return this.routeTable.lookup(dst);
  }

  /** pkt: room for the IP header, then the transport header and data. partial: the TCP or
   *  UDP checksum is still to be made (CHECKSUM_PARTIAL): lo and the Ethernet link between
   *  the sentry's stacks carry the packet without it (header/offload.ts). linkRoom: the
   *  LINK_ROOM bytes in front of pkt in its buffer are the packet's own (skb headroom), so a
   *  link may write its header there instead of copying the packet into a frame. */
  sendIP(pkt: Uint8Array, src: IPAddr, dst: IPAddr, proto: number, ttl: number, tos: number, partial = false, linkRoom = false): void {
    this.writeIPHeader(pkt, src, dst, proto, ttl, tos);
    this.sendPrebuilt(pkt, dst, partial, linkRoom);
  }

  private writeIPHeader(pkt: Uint8Array, src: IPAddr, dst: IPAddr, proto: number, ttl: number, tos: number): void {
    if (dst.length === 4) {
      this.ipId = (this.ipId + 1) & 0xffff;
      writeIPv4Header(pkt, src, dst, proto, ttl, tos, this.ipId);
    } else {
      writeIPv6Header(pkt, src, dst, proto, ttl, tos);
    }
  }

  private sendLoopback(pkt: Uint8Array, partial: boolean): void {
    this.lo.stats.txPackets++;
    this.lo.stats.txBytes += pkt.length;
    this.lo.stats.rxPackets++;
    this.lo.stats.rxBytes += pkt.length;
    this.loopback.send(pkt, partial);
  }

  /** IP_HDRINCL's completion of a caller's IPv4 header: an identifier if it has none, and
   *  the header checksum. */
  completeIPv4Header(pkt: Uint8Array, ihl: number): void {
    if (pkt[4] === 0 && pkt[5] === 0) {
      this.ipId = (this.ipId + 1) & 0xffff;
      pkt[4] = this.ipId >> 8;
      pkt[5] = this.ipId & 0xff;
    }
    pkt[10] = 0;
    pkt[11] = 0;
    const c = finish(sum16(pkt, 0, ihl));
    pkt[10] = c >> 8;
    pkt[11] = c & 0xff;
  }

  /** A packet whose IP header is written (by sendIP, or by a raw socket's caller), routed by
   *  dst — not by what its header says: lo for a local address, else the route's link. */
  sendPrebuilt(pkt: Uint8Array, dst: IPAddr, partial = false, linkRoom = false): void {
    if (this.routeTable.isLocal(dst)) {
      if (pkt.length > this.lo.mtu) { this.sendFragments(pkt, dst, this.lo.mtu, partial); return; }
      this.sendLoopback(pkt, partial);
      return;
    }
    const r = this.routeTable.lookup(dst);
    const link = r ? this.links.find((l) => l.info === r.nic) : undefined;
    if (!r || !link) { this.stats.ipDropped++; return; }
    const mtu = pkt.length > 552 && this.pmtuKnown() ? (pathMtu(this, dst) ?? r.nic.mtu) : r.nic.mtu;
    if (pkt.length > mtu) { this.sendFragments(pkt, dst, mtu, partial); return; }
    link.sendIP(pkt, r.nextHop, partial, linkRoom);
  }

  /** Whether any path MTU exception exists (the common case, none, costs no lookup). */
  private pmtuKnown(): boolean { return pmtuOf(this).size > 0; }

  /** ip_fragment / ip6_fragment: pkt is larger than the path's MTU; its pieces go out in its
   *  place, each routed as it was (the transport checksum is made first: a receiver checks
   *  it on the whole datagram). Whether the sender allowed this is its socket's business. */
  private sendFragments(pkt: Uint8Array, dst: IPAddr, mtu: number, partial: boolean): void {
    if (partial) fillTransportChecksumOf(pkt);
    const pieces = dst.length === 4 ? ipv4Fragment(this, pkt, mtu) : ipv6Fragment(this, pkt, mtu);
    if (!pieces) { this.stats.ipDropped++; return; }
    for (const f of pieces) this.sendPrebuilt(f, dst);
  }

  /** A datagram to a group, out of nic (ip_mc_output, ip6_finish_output2): on lo it is
   *  simply received; elsewhere a copy comes back in on nic when loop is asked and nic has
   *  joined the group, and it leaves by the link unless its TTL keeps it on this host. */
  sendMulticast(pkt: Uint8Array, src: IPAddr, dst: IPAddr, proto: number, ttl: number, tos: number, nic: NicInfo, loop: boolean): void {
    this.writeIPHeader(pkt, src, dst, proto, ttl, tos);
    if (nic === this.lo) { this.sendLoopback(pkt, true); return; }
    if (loop && this.mcast.joined(nic.index, dst)) this.mcast.loopBack(nic, pkt, true);
    const link = this.links.find((l) => l.info === nic);
    if (ttl > 0 && link) link.sendIP(pkt, dst, true);
  }

  /** A zeroed packet of len bytes with room bytes of its own in front of it (a bare
   *  segment's: headers only, so never more than a slab region). */
  headerPacket(room: number, len: number): Uint8Array {
    return this.headerSlab.take(room + len).subarray(room);
  }

  /** Deliver what the operation just finished sent (the caller holds no endpoint state). */
  flush(): void {
    this.loopback.drain();
    this.mcast.drain();
    for (const l of this.links) l.drain();
  }

  /** The ISN a SYN that reopens a connection in TIME_WAIT must use (tcp_tw_isn), for the
   *  listener that takes it; consumed by the next newIss(). */
  twIsn: number | null = null;

  /** The ISN of a new connection (time_wait.ts may have set the one it must use). */
  newIss(local: IPAddr, lport: number, remote: IPAddr, rport: number): number {
    const tw = this.twIsn;
    this.twIsn = null;
    return tw ?? secureTcpSeq(this, local, lport, remote, rport, performance.now());
  }

  // --- network layer in ---

  /** A packet from a link (ip_rcv / ipv6_rcv): parse, check, hand to the transport. We are
   *  not a router: a packet for an address not ours is dropped (unless promiscuous). */
  deliver(p: Uint8Array, nic: NicInfo = this.lo, offloaded = false): void {
    this.stats.ipIn++;
    const version = p.length > 0 ? p[0] >> 4 : 0;
    let ip = version === 4 ? parseIPv4(p) : version === 6 ? parseIPv6(p) : null;
    if (!ip) { this.stats.ipDropped++; return; }
    // A group this interface has not joined is not ours (ip_check_mc_rcu, ipv6_chk_mcast_addr).
    if (isMulticast(ip.dst)) {
      if (!this.promiscuous && !this.mcast.joined(nic.index, ip.dst, ip.src)) { this.stats.ipDropped++; return; }
    } else if (nic !== this.lo && !this.promiscuous && !this.routeTable.acceptsOn(ip.dst, nic)) { this.stats.ipDropped++; return; }
    // A fragment waits for the rest of its datagram (ip_local_deliver's ip_defrag,
    // ipv6_frag_rcv); raw sockets and transports see the datagram whole, checksums checked.
    if (version === 4 ? (ip as IPv4Packet).more || (ip as IPv4Packet).fragOff !== 0 : ip.proto === IPPROTO_FRAGMENT) {
      // IPv6 raw sockets of IPPROTO_FRAGMENT see each piece (ip6_protocol_deliver_rcu).
      if (version === 6) rawSocketsInput(this, p, ip.payload, ip.src, ip.dst, ip.proto, true, nic.index);
      const whole = version === 4 ? ipv4Defrag(this, p, ip as IPv4Packet) : ipv6Defrag(this, p, ip as IPv6Packet);
      if (!whole) return;
      p = whole;
      offloaded = false;
      ip = version === 4 ? parseIPv4(p) : parseIPv6(p);
      if (!ip) { this.stats.ipDropped++; return; }
    }
    // Raw sockets of the protocol take their copies first (ICMP's are icmp/endpoint.ts's).
    if (ip.proto !== IPPROTO_ICMP && ip.proto !== IPPROTO_ICMPV6) rawSocketsInput(this, p, ip.payload, ip.src, ip.dst, ip.proto, version === 6, nic.index);
    switch (ip.proto) {
      case IPPROTO_TCP: this.tcpInput(ip.payload, ip.src, ip.dst, offloaded, p, nic.index); return;
      case IPPROTO_UDP: this.udpInput(p, ip.payload, ip.src, ip.dst, offloaded, nic); return;
      case IPPROTO_ICMP: if (version === 4) this.icmpInput(p, ip.payload, null, ip.src, ip.dst); return;
      case IPPROTO_ICMPV6: if (version === 6) this.icmpInput(p, ip.payload, { src: ip.src, dst: ip.dst }, ip.src, ip.dst); return;
      default: this.stats.ipDropped++;
    }
  }

  // --- TCP demultiplexing ---

  private connKey(local: IPAddr, lport: number, remote: IPAddr, rport: number): string {
    return `${addrKey(local)}|${lport}|${addrKey(remote)}|${rport}`;
  }

  /** Whether a connection with this 4-tuple exists (connect's uniqueness check). */
  connExists(local: IPAddr, lport: number, remote: IPAddr, rport: number): boolean {
    return this.conns.has(this.connKey(local, lport, remote, rport));
  }

  /** The connection with this 4-tuple, if any. */
  connOf(local: IPAddr, lport: number, remote: IPAddr, rport: number): TcpEndpoint | null {
    return this.conns.get(this.connKey(local, lport, remote, rport)) ?? null;
  }

  registerConn(ep: TcpEndpoint): void {
    if (!ep.local || !ep.remote) return;
    ep.connKey = this.connKey(ep.local, ep.lport, ep.remote, ep.rport);
    this.conns.set(ep.connKey, ep);
    // The index by ports follows the map: an entry with the same 4-tuple is replaced.
    const pk = ep.lport * 0x10000 + ep.rport;
    let list = this.connsByPorts.get(pk);
    if (!list) this.connsByPorts.set(pk, (list = []));
    const e: ConnEntry = { ep, local: ep.local, remote: ep.remote, ports: pk };
    const i = list.findIndex((o) => addrEqual(o.local, e.local) && addrEqual(o.remote, e.remote));
    if (i >= 0) list[i] = e;
    else list.push(e);
    ep.connEntry = e;
  }

  unregisterConn(ep: TcpEndpoint): void {
    if (ep.connKey !== null && this.conns.get(ep.connKey) === ep) {
      this.conns.delete(ep.connKey);
      const e = ep.connEntry;
      const list = e ? this.connsByPorts.get(e.ports) : undefined;
      if (e && list) {
        const i = list.indexOf(e);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.connsByPorts.delete(e.ports);
      }
    }
    ep.connKey = null;
    ep.connEntry = null;
    this.pendingAcks.delete(ep);
    this.delayedAcks.delete(ep);
  }

  /** conns.get(connKey(...)) without building the key: every segment's lookup. */
  private established(local: IPAddr, lport: number, remote: IPAddr, rport: number): TcpEndpoint | undefined {
    const list = this.connsByPorts.get(lport * 0x10000 + rport);
    if (list) for (const e of list) if (addrEqual(e.local, local) && addrEqual(e.remote, remote)) return e.ep;
    return undefined;
  }

  /** An accepted connection holds its listener's port too (as Linux's bind bucket). */
  attachChild(listener: TcpEndpoint, child: TcpEndpoint): void {
    const lb = listener.binding;
    if (!lb || !child.local) return;
    const b: Binding = {
      v4: child.local.length === 4, v6: child.local.length === 16, addr: child.local,
      reuseAddr: lb.reuseAddr, reusePort: lb.reusePort, uid: lb.uid, listening: () => false,
    };
    child.binding = b;
    this.tcpPorts.add(child.lport, b, child);
  }

  releasePort(ep: TcpEndpoint): void {
    if (ep.binding) this.tcpPorts.release(ep.lport, ep.binding);
    ep.binding = null;
  }

  *tcpEndpoints(): IterableIterator<TcpEndpoint> {
    const seen = new Set<TcpEndpoint>();
    for (const [, ep] of this.tcpPorts.entries()) if (!seen.has(ep)) { seen.add(ep); yield ep; }
    for (const ep of this.conns.values()) if (!seen.has(ep)) { seen.add(ep); yield ep; }
  }

  private tcpInput(s: Uint8Array, src: IPAddr, dst: IPAddr, offloaded: boolean, net?: Uint8Array, ifindex = 1): void {
    const seg = parseTCP(s, src, dst, !offloaded);
    if (!seg) { this.stats.ipDropped++; return; }
    this.stats.tcpIn++;
    let ep: TcpEndpoint | null | undefined = this.established(dst, seg.dstPort, src, seg.srcPort);
    // An endpoint bound to another interface does not see it (inet_sk_bound_dev_eq).
    if (ep && !devMatches(ep, ifindex)) ep = undefined;
    ep ??= this.listenerFor(seg.dstPort, dst, src, seg.srcPort, ifindex);
    if (ep) {
      // tcp_filter: the socket's filter sees the segment, header first, and may drop or trim it.
      if (ep.filter?.prog && !this.tcpFiltered(ep.filter.prog, seg, s, net ?? s, ifindex)) return;
      ep.input(seg, src, dst);
      return;
    }
    if (this.forwarder?.tcp(seg, src, dst)) return;
    this.sendReset(seg, dst, src);
  }

  /** Run a socket filter on a segment (sk_filter_trim_cap, the TCP header kept whole): false
   *  to drop it, else its data trimmed to what the filter keeps. */
  private tcpFiltered(prog: BpfProgram, seg: TCPSegment, s: Uint8Array, net: Uint8Array, ifindex: number): boolean {
    const hdr = s.length - seg.data.length;
    const keep = filterKeep(prog, { pkt: s, net, ifindex }, hdr);
    if (keep === 0) return false;
    if (keep < s.length) seg.data = seg.data.subarray(0, keep - hdr);
    return true;
  }

  /** Whether a SYN that reopens a TIME_WAIT connection to dst:port has a taker (time_wait.ts). */
  canReopen(port: number, dst: IPAddr): boolean {
    return this.listenerFor(port, dst) !== null || this.forwarder !== null;
  }

  /** Hand such a SYN (the TIME_WAIT endpoint gone) to its listener, isn as the new ISN
   *  (tcp_v4_rcv's TCP_TW_SYN), or to the forwarder (the NAT's gateway); a reset if neither
   *  takes it. */
  reopen(seg: TCPSegment, src: IPAddr, dst: IPAddr, isn: number): void {
    const l = this.listenerFor(seg.dstPort, dst, src, seg.srcPort);
    if (l) {
      this.twIsn = isn;
      l.input(seg, src, dst);
      this.twIsn = null;
      return;
    }
    if (this.forwarder?.tcp(seg, src, dst)) return;
    this.sendReset(seg, dst, src);
  }

  /** The listener a segment to dst:port goes to, if any; from src:sport, one of an
   *  SO_REUSEPORT group as the flow's hash picks. */
  listenerFor(port: number, dst: IPAddr, src?: IPAddr, sport = 0, ifindex = 0): TcpEndpoint | null {
    for (const l of this.tcpPorts.lookup(port, dst)) {
      if (l.state !== TCPS.LISTEN || (ifindex !== 0 && !devMatches(l, ifindex))) continue;
      if (!src || !l.binding?.reusePort) return l;
      return this.tcpPorts.reusePortPick(port, l, (o) => o.state === TCPS.LISTEN, flowHash(src, sport, dst, port));
    }
    return null;
  }

  /** tcp_v4_send_reset: the answer to a segment nobody takes (never to a RST). */
  sendReset(seg: TCPSegment, local: IPAddr, remote: IPAddr): void {
    if (seg.flags & TH_RST) return;
    const ipLen = this.ipHeaderLen(local.length === 16);
    const pkt = new Uint8Array(ipLen + TCP_HEADER);
    const segLen = seg.data.length + (seg.flags & TH_SYN ? 1 : 0) + (seg.flags & TH_FIN ? 1 : 0);
    const o = seg.flags & TH_ACK
      ? { srcPort: seg.dstPort, dstPort: seg.srcPort, seq: seg.ack, ack: WIDE_ZERO, flags: TH_RST, window: 0 }
      : { srcPort: seg.dstPort, dstPort: seg.srcPort, seq: WIDE_ZERO, ack: (seg.seq + segLen) >>> 0, flags: TH_RST | TH_ACK, window: 0 };
    writeTCP(pkt.subarray(ipLen), o, local, remote);
    const mib = mibOf(this);
    mib.tcpOutSegs++;
    mib.tcpOutRsts++;
    this.sendIP(pkt, local, remote, IPPROTO_TCP, 64, 0);
  }

  /** Coalesce the ACKs of a batch of received segments into one per connection. */
  ackLater(ep: TcpEndpoint): void {
    ep.ackNeeded = true;
    this.pendingAcks.add(ep);
  }

  /** Send the delayed ACKs whose time has come before a retransmission timeout is acted on:
   *  a sentry stalled past both (a loaded host) runs its host timers in no set order, and an
   *  RTO taken before the ACK that was due first would be a loss that never happened (Linux's
   *  timer wheel runs them by expiry). */
  sendDueDelayedAcks(now: number): void {
    if (this.delayedAcks.size === 0) return;
    for (const ep of [...this.delayedAcks]) ep.delayedAckDue(now);
    this.flush();
  }

  private flushAcks(): void {
    if (this.pendingAcks.size === 0) return;
    const eps = [...this.pendingAcks];
    this.pendingAcks.clear();
    for (const ep of eps) if (ep.ackNeeded) ep.sendAck();
  }

  // --- UDP ---

  private udpInput(packet: Uint8Array, u: Uint8Array, src: IPAddr, dst: IPAddr, offloaded: boolean, nic: NicInfo): void {
    const d = parseUDP(u, src, dst, !offloaded);
    if (!d) { this.stats.ipDropped++; return; }
    this.stats.udpIn++;
    if (isMulticast(dst)) { this.udpMulticastInput(packet, u, d.data, src, d.srcPort, dst, d.dstPort, nic); return; }
    let wild: UdpEndpoint | null = null;
    for (const ep of this.udpPorts.lookup(d.dstPort, dst)) {
      if (!devMatches(ep, nic.index)) continue;
      if (ep.remote === null) { wild ??= ep; continue; }
      if (ep.rport === d.srcPort && addrKey(ep.remote) === addrKey(src)) { this.udpDeliver(ep, d.data, u, src, d.srcPort, packet, dst, nic.index); return; }
    }
    if (wild?.binding?.reusePort) wild = this.udpPorts.reusePortPick(d.dstPort, wild, (o) => o.remote === null, flowHash(src, d.srcPort, dst, d.dstPort));
    if (wild) { this.udpDeliver(wild, d.data, u, src, d.srcPort, packet, dst, nic.index); return; }
    if (this.forwarder?.udp(d.data, src, d.srcPort, dst, d.dstPort)) return;
    // No ICMP error about a broadcast or multicast datagram (RFC 1122 3.2.2).
    if (this.isBroadcastOrMulticast(dst)) return;
    // icmp_send's rate limits (icmp/ratelimit.ts) may hold the error back; NoPorts counts it.
    const v6 = src.length === 16;
    if (icmpErrorAllowed(this, src, v6 ? ICMPV6_DEST_UNREACH : ICMP_DEST_UNREACH, v6 ? ICMPV6_PORT_UNREACH : ICMP_PORT_UNREACH)) this.sendPortUnreachable(packet, src, dst);
    else mibOf(this).udpNoPorts++;
  }

  /** __udp4_lib_mcast_deliver / __udp6_lib_mcast_deliver: every socket bound to the port
   *  (to any address or to the group), connected to this source if connected at all, whose
   *  memberships let it in (mcast_opts.ts), gets a copy. Nobody is no error. */
  private udpMulticastInput(packet: Uint8Array, u: Uint8Array, data: Uint8Array, src: IPAddr, sport: number, dst: IPAddr, dport: number, nic: NicInfo): void {
    for (const ep of this.udpPorts.lookup(dport, dst)) {
      if (ep.remote !== null && (ep.rport !== sport || !addrEqual(ep.remote, src))) continue;
      if (ep.mcastAllows && !ep.mcastAllows(dst, src, nic.index)) continue;
      if (!devMatches(ep, nic.index)) continue;
      this.udpDeliver(ep, data, u, src, sport, packet, dst, nic.index);
    }
  }

  /** udp_queue_rcv_one_skb: the socket's filter may drop the datagram or trim it (the UDP
   *  header kept whole), then it is queued. */
  private udpDeliver(ep: UdpEndpoint, data: Uint8Array, u: Uint8Array, src: IPAddr, sport: number, packet: Uint8Array,
    dst: IPAddr, ifindex: number): void {
    const prog = ep.filter?.prog;
    if (prog) {
      const keep = filterKeep(prog, { pkt: u.subarray(0, UDP_HEADER + data.length), net: packet, ifindex }, UDP_HEADER);
      if (keep === 0) { ep.drops++; return; }
      data = data.subarray(0, keep - UDP_HEADER);
    }
    ep.deliver(data, src, sport, packet, dst, ifindex);
  }

  /** icmp_send(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH): quote the packet's IP header and the
   *  start of its payload back to its sender. */
  sendPortUnreachable(packet: Uint8Array, src: IPAddr, dst: IPAddr): void {
    const v6 = src.length === 16;
    const pkt = v6 ? buildIcmpError(this, packet, ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH, 0, { src: dst, dst: src })
      : buildIcmpError(this, packet, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, null);
    const mib = mibOf(this);
    mib.icmpOutMsgs++;
    mib.icmpOutDestUnreachs++;
    mib.udpNoPorts++;
    this.sendIP(pkt, dst, src, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, 64, 0);
  }

  private icmpInput(p: Uint8Array, m: Uint8Array, v6: { src: IPAddr; dst: IPAddr } | null, src: IPAddr, dst: IPAddr): void {
    if (!v6) icmpRawInput(this, p, m, src, dst);
    const msg = parseICMP(m, v6);
    if (!msg) { this.stats.ipDropped++; return; }
    this.stats.icmpIn++;
    // Raw and ping sockets see the message before the stack answers it.
    icmpSocketsInput(this, p, m, src, dst, v6 !== null);
    if (msg.type === (v6 ? ICMPV6_ECHO_REQUEST : ICMP_ECHO) && msg.code === 0) {
      if (this.isLocalAddress(dst) || this.promiscuous) {
        const pkt = echoReply(m, src, dst, this.ipHeaderLen(!!v6));
        if (pkt) {
          const mib = mibOf(this);
          mib.icmpOutMsgs++;
          mib.icmpOutEchoReps++;
          this.sendIP(pkt, dst, src, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, 64, 0);
        }
      }
      return;
    }
    icmpErrorInput(this, m, src, v6 !== null);
  }

  /** The connection with this 4-tuple, if any (tcp_v4_err's __inet_lookup_established). */
  findConn(local: IPAddr, lport: number, remote: IPAddr, rport: number): TcpEndpoint | undefined {
    return this.conns.get(this.connKey(local, lport, remote, rport));
  }
}

const stacks = new WeakMap<object, Stack>();

/** The stack of a sandbox (keyed by its kernel). */
export function stackOf(kernel: object): Stack {
  let s = stacks.get(kernel);
  if (!s) stacks.set(kernel, (s = new Stack()));
  return s;
}

/** Give a sandbox its configured stack (the network set-up, before the first socket). */
export function setStackOf(kernel: object, stack: Stack): void {
  stacks.set(kernel, stack);
}
