// A UDP endpoint (Linux net/ipv4/udp.c, gVisor tcpip/transport/udp): its local and remote
// address, the datagrams received and not yet read (bounded by the receive buffer: past it
// they are dropped, as udp_rmem_schedule does), and the error an ICMP port-unreachable left
// for a connected socket (ECONNREFUSED on its next call), and the error queue IP_RECVERR
// fills (../icmp/errors.ts decides what an ICMP error does here).

import { POLLIN, POLLOUT } from '../../abi/linux/poll';
import type { IPAddr } from '../addr';
import type { Binding } from '../ports';
import type { NicInfo } from '../nic';
import type { Stack } from '../stack';
import { IPPROTO_UDP, UDP_HEADER, writeUDP } from '../header/udp';
import { ErrQueue } from '../icmp/errqueue';
import type { FilterSlot } from '../../kernel/bpf';
import { mibOf } from '../mib';

/** A received datagram with what its IP header said, for the receive control messages
 *  (IP_PKTINFO, IP_TTL, IP_TOS and their IPv6 twins): the address it was sent to, the
 *  interface it came in on, its TTL (hop limit) and TOS (traffic class), and when it came
 *  (process.hrtime; 0n when the socket was not stamping). */
export interface Datagram {
  data: Uint8Array; from: IPAddr; port: number;
  to: IPAddr; ifindex: number; ttl: number; tos: number; stamp: bigint;
}

/** What a queued datagram costs against SO_RCVBUF (its data plus an sk_buff's overhead). */
const SKB_OVERHEAD = 768;

export class UdpEndpoint {
  /** The local address (null: any) and port (0: unbound). */
  local: IPAddr | null = null;
  lport = 0;
  remote: IPAddr | null = null;
  rport = 0;
  binding: Binding | null = null;
  readonly queue: Datagram[] = [];
  queued = 0;
  rcvBufSize = 212992;
  err = 0;
  ttl = 64;
  tos = 0;
  owner: { notify(mask: number): void } | null = null;
  /** The socket's say on a datagram to a group (mcast_opts.ts); none: it takes all. */
  mcastAllows: ((group: IPAddr, src: IPAddr, ifindex: number) => boolean) | null = null;
  /** The owner's socket filter (SO_ATTACH_FILTER), run on each datagram for it. */
  filter: FilterSlot | null = null;
  /** Stamp arriving datagrams (SO_TIMESTAMP or SIOCGSTAMP asked: Linux's SOCK_TIMESTAMP). */
  stamping = false;
  drops = 0;
  readonly errQueue = new ErrQueue();

  /** Connected (sk_state TCP_ESTABLISHED for UDP). */
  get connected(): boolean { return this.remote !== null; }

  constructor(readonly stack: Stack) {}

  /** A datagram for us (udp_queue_rcv_skb); packet is its IP packet (v4 or v6 header first). */
  deliver(data: Uint8Array, from: IPAddr, port: number, packet: Uint8Array, to: IPAddr, ifindex: number): void {
    const cost = data.length + SKB_OVERHEAD;
    if (this.queued + cost > this.rcvBufSize && this.queue.length > 0) {
      this.drops++;
      mibOf(this.stack).udpRcvbufErrors++;
      return;
    }
    mibOf(this.stack).udpInDatagrams++;
    const v4 = packet[0] >> 4 === 4;
    this.queue.push({
      data, from: from.slice(), port, to, ifindex,
      ttl: v4 ? packet[8] : packet[7],
      tos: v4 ? packet[1] : ((packet[0] & 0xf) << 4) | (packet[1] >> 4),
      stamp: this.stamping ? process.hrtime.bigint() : 0n,
    });
    this.queued += cost;
    this.owner?.notify(POLLIN);
  }

  take(peek: boolean): Datagram | undefined {
    const d = peek ? this.queue[0] : this.queue.shift();
    if (d && !peek) this.queued -= d.data.length + SKB_OVERHEAD;
    return d;
  }

  /** Send one datagram from (src, lport) to (dst, dport). */
  send(src: IPAddr, dst: IPAddr, dport: number, data: Uint8Array): void {
    this.stack.sendIP(this.packet(src, dst, dport, data), src, dst, IPPROTO_UDP, this.ttl, this.tos, true);
    mibOf(this.stack).udpOutDatagrams++;
    this.owner?.notify(POLLOUT);
  }

  /** Send one datagram to a group, out of the interface the socket's options chose. */
  sendMulticast(r: { nic: NicInfo; src: IPAddr; ttl: number; loop: boolean }, dst: IPAddr, dport: number, data: Uint8Array): void {
    this.stack.sendMulticast(this.packet(r.src, dst, dport, data), r.src, dst, IPPROTO_UDP, r.ttl, this.tos, r.nic, r.loop);
    mibOf(this.stack).udpOutDatagrams++;
    this.owner?.notify(POLLOUT);
  }

  private packet(src: IPAddr, dst: IPAddr, dport: number, data: Uint8Array): Uint8Array {
    const ipLen = this.stack.ipHeaderLen(dst.length === 16);
    const pkt = new Uint8Array(ipLen + UDP_HEADER + data.length);
    pkt.set(data, ipLen + UDP_HEADER);
    writeUDP(pkt.subarray(ipLen), src, dst, this.lport, dport, false);
    return pkt;
  }
}
