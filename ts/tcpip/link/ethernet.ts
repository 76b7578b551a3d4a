// An Ethernet-like link (Linux drivers/net/veth.c and net/ethernet; gVisor link/ethernet):
// frames of 14-byte headers carrying IPv4, IPv6 and ARP, between two ends joined by a wire
// (attach). The sandbox's eth0 is one end; the user-mode NAT's gateway stack is the other
// (../../net/nat). Outgoing IPv4 is framed for its next hop's MAC from the neighbour cache
// (arp.ts); IPv6 for a multicast MAC or a neighbour found by neighbour discovery (ndp.ts,
// with a cache of its own). Incoming frames are queued (queue.ts) and parsed later; a frame
// not for our MAC, broadcast or multicast is dropped, as is anything malformed. Both ends are
// stacks of the sentry, so the wire carries TCP and UDP checksums offloaded, as a veth pair
// does (header/offload.ts); a packet queued for an unresolved neighbour gets its checksum.

import { addrEqual, type IPAddr } from '../addr';
import { ARPOP_REPLY, ARPOP_REQUEST, ARP_LEN, ETH_P_ARP, NeighbourCache, parseArp, writeArp } from './arp';
import { PacketQueue } from './queue';
import { fillTransportChecksumOf } from '../header/offload';
import { ND_NEIGHBOR_SOLICIT, buildAdvert, buildSolicit, multicastMac, parseNdp } from './ndp';
import { ARPHRD_ETHER, IFF_BROADCAST, IFF_LOWER_UP, IFF_MULTICAST, IFF_RUNNING, IFF_UP, newNicStats, type NicInfo } from '../nic';

export const ETH_HLEN = 14;
export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
/** The largest IP packet a frame carries: IPv4's whole 64 KiB, so TCP on eth0 uses the same
 *  large segments as on lo (both ends are in the sentry; there is no wire to fragment for). */
export const ETH_MTU = 65535;
export const ETH_BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** What a link needs from its stack. */
export interface LinkHost {
  /** An IP packet arrived on nic; offloaded: its transport checksum was left out by a stack
   *  of the sentry (trusted). */
  deliver(pkt: Uint8Array, nic: NicInfo, offloaded: boolean): void;
  /** A batch of deliveries ended. */
  drained(): void;
  /** An IP packet of ours was dropped because its next hop never resolved. */
  linkFailure?(pkt: Uint8Array): void;
}

export class EthernetLink {
  readonly info: NicInfo;
  readonly arp: NeighbourCache;
  private readonly inq: PacketQueue;
  private peer: EthernetLink | null = null;
  /** IPv6 neighbours (RFC 4861): resolved by solicitation, as arp for IPv4. */
  readonly ndp: NeighbourCache;

  constructor(private readonly host: LinkHost, index: number, name: string, mac: Uint8Array, mtu = ETH_MTU) {
    this.info = {
      index, name, mtu, type: ARPHRD_ETHER, hwAddr: mac.slice(), hwBroadcast: ETH_BROADCAST,
      flags: IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST | IFF_LOWER_UP,
      addrs: [], stats: newNicStats(), txQueueLen: 1000,
    };
    const failed = (pkts: Uint8Array[]): void => { for (const p of pkts) host.linkFailure?.(p); };
    this.arp = new NeighbourCache((ip) => this.sendArp(ARPOP_REQUEST, ETH_BROADCAST, new Uint8Array(6), ip),
      (n) => { this.info.stats.txDropped += n; }, failed);
    this.ndp = new NeighbourCache((ip) => this.solicitV6(ip), (n) => { this.info.stats.txDropped += n; }, failed);
    this.inq = new PacketQueue((f, offloaded) => this.input(f, offloaded), () => host.drained());
  }

  /** Join two ends with a wire. */
  static connect(a: EthernetLink, b: EthernetLink): void {
    a.peer = b;
    b.peer = a;
  }

  get mac(): Uint8Array { return this.info.hwAddr; }

  /** Deliver what the wire brought now (the stack's flush). */
  drain(): void { this.inq.drain(); }

  /** Send an IP packet to the neighbour nextHop; partial: its TCP/UDP checksum is not made;
   *  room: the ETH_HLEN bytes before pkt in its buffer are its own to write the header in. */
  sendIP(pkt: Uint8Array, nextHop: IPAddr, partial = false, room = false): void {
    if (nextHop.length === 4) {
      // A group's frames go to its multicast MAC, 01:00:5e and the group's low 23 bits.
      if (nextHop[0] >= 224 && nextHop[0] <= 239) {
        this.xmit(new Uint8Array([1, 0, 0x5e, nextHop[1] & 0x7f, nextHop[2], nextHop[3]]), ETH_P_IP, pkt, partial, room);
        return;
      }
      const mac = this.arp.lookup(nextHop);
      if (mac) this.xmit(mac, ETH_P_IP, pkt, partial, room);
      else this.arp.queue(nextHop, this.checksummed(pkt, partial));
      return;
    }
    if (nextHop[0] === 0xff) { this.xmit(multicastMac(nextHop), ETH_P_IPV6, pkt, partial); return; }
    const mac = this.ndp.lookup(nextHop);
    if (mac) this.xmit(mac, ETH_P_IPV6, pkt, partial, room);
    else this.ndp.queue(nextHop, this.checksummed(pkt, partial));
  }

  /** A packet that waits for its neighbour leaves later as a plain one: checksum it now. */
  private checksummed(pkt: Uint8Array, partial: boolean): Uint8Array {
    if (partial) fillTransportChecksumOf(pkt);
    return pkt;
  }

  private solicitV6(target: IPAddr): void {
    const src = this.info.addrs.find((x) => x.addr.length === 16)?.addr;
    if (!src) return;
    const ns = buildSolicit(src, target, this.mac);
    this.xmit(multicastMac(ns.subarray(24, 40)), ETH_P_IPV6, ns);
  }

  /** A solicitation for one of our addresses is answered, and its sender learnt; an
   *  advertisement updates the entry we asked for. True: the packet was NDP. */
  private ndpInput(p: Uint8Array): boolean {
    const m = parseNdp(p);
    if (!m) return false;
    const send = (mac: Uint8Array, pkt: Uint8Array): void => this.xmit(mac, ETH_P_IPV6, pkt);
    const ours = this.info.addrs.some((x) => addrEqual(x.addr, m.target));
    if (m.type === ND_NEIGHBOR_SOLICIT) {
      if (!ours) return true;
      const unspecified = m.src.every((b) => b === 0);
      if (m.lladdr && !unspecified && (m.lladdr[0] & 1) === 0) this.ndp.learn(m.src, m.lladdr, true, send);
      const mac = m.lladdr ?? this.ndp.lookup(m.src);
      if (mac && !unspecified) send(mac, buildAdvert(m.target, m.src, m.target, this.mac));
      return true;
    }
    if (m.lladdr && (m.lladdr[0] & 1) === 0) this.ndp.learn(m.target, m.lladdr, false, send);
    return true;
  }

  private xmit(dstMac: Uint8Array, type: number, payload: Uint8Array, partial = false, room = false): void {
    // With room in front of the payload the frame is a view of it (the header written into
    // the packet's headroom, as skb_push): no copy of the data on the wire.
    const f = room && payload.byteOffset >= ETH_HLEN
      ? new Uint8Array(payload.buffer, payload.byteOffset - ETH_HLEN, ETH_HLEN + payload.length)
      : new Uint8Array(ETH_HLEN + payload.length);
    f.set(dstMac, 0);
    f.set(this.mac, 6);
    f[12] = type >> 8;
    f[13] = type & 0xff;
    if (f.buffer !== payload.buffer) f.set(payload, ETH_HLEN);
    const s = this.info.stats;
    if (!this.peer || !(this.info.flags & IFF_UP)) { s.txDropped++; return; }
    s.txPackets++;
    s.txBytes += f.length;
    this.peer.receive(f, partial);
  }

  /** A frame from the wire (offloaded: from a stack of the sentry, checksum left out). */
  receive(frame: Uint8Array, offloaded = false): void { this.inq.send(frame, offloaded); }

  private input(f: Uint8Array, offloaded: boolean): void {
    const s = this.info.stats;
    if (f.length < ETH_HLEN || !(this.info.flags & IFF_UP)) { s.rxDropped++; return; }
    const dst = f.subarray(0, 6);
    const forUs = addrEqual(dst, this.mac) || addrEqual(dst, ETH_BROADCAST) || (dst[0] & 1) === 1;
    if (!forUs) { s.rxDropped++; return; }
    s.rxPackets++;
    s.rxBytes += f.length;
    const type = (f[12] << 8) | f[13];
    const payload = f.subarray(ETH_HLEN);
    switch (type) {
      case ETH_P_ARP: this.arpInput(payload); return;
      case ETH_P_IP: this.host.deliver(payload, this.info, offloaded); return;
      case ETH_P_IPV6:
        if (!this.ndpInput(payload)) this.host.deliver(payload, this.info, offloaded);
        return;
      default: s.rxDropped++;
    }
  }

  /** arp_process: answer requests for our addresses, learn the sender when the packet
   *  concerns us (a request to us, or any reply for an entry we hold). */
  private arpInput(p: Uint8Array): void {
    const a = parseArp(p);
    if (!a) { this.info.stats.rxDropped++; return; }
    const ours = this.ownsV4(a.tpa);
    const send = (mac: Uint8Array, pkt: Uint8Array): void => this.xmit(mac, ETH_P_IP, pkt);
    if ((a.sha[0] & 1) === 0) this.arp.learn(a.spa, a.sha, ours, send);
    if (a.op === ARPOP_REQUEST && ours) this.sendArp(ARPOP_REPLY, a.sha, a.sha, a.spa, a.tpa);
  }

  private ownsV4(ip: IPAddr): boolean {
    for (const x of this.info.addrs) if (addrEqual(x.addr, ip)) return true;
    return false;
  }

  private sendArp(op: number, dstMac: Uint8Array, tha: Uint8Array, tpa: IPAddr, spa?: IPAddr): void {
    const src = spa ?? this.info.addrs.find((x) => x.addr.length === 4)?.addr;
    if (!src) return;
    const p = new Uint8Array(ARP_LEN);
    writeArp(p, { op, sha: this.mac, spa: src, tha, tpa });
    this.xmit(dstMac, ETH_P_ARP, p);
  }
}
