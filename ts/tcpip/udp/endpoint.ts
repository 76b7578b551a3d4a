// A UDP endpoint (Linux net/ipv4/udp.c, gVisor tcpip/transport/udp): its local and remote
// address, the datagrams received and not yet read (bounded by the receive buffer: past it
// they are dropped, as udp_rmem_schedule does), and the error an ICMP port-unreachable left
// for a connected socket (ECONNREFUSED on its next call).

import { POLLERR, POLLIN, POLLOUT } from '../../abi/linux/poll';
import type { IPAddr } from '../addr';
import type { Binding } from '../ports';
import type { Stack } from '../stack';
import { IPPROTO_UDP, UDP_HEADER, writeUDP } from '../header/udp';

export interface Datagram { data: Uint8Array; from: IPAddr; port: number }

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
  drops = 0;

  constructor(readonly stack: Stack) {}

  /** A datagram for us (udp_queue_rcv_skb). */
  deliver(data: Uint8Array, from: IPAddr, port: number): void {
    const cost = data.length + SKB_OVERHEAD;
    if (this.queued + cost > this.rcvBufSize && this.queue.length > 0) {
      this.drops++;
      return;
    }
    this.queue.push({ data, from: from.slice(), port });
    this.queued += cost;
    this.owner?.notify(POLLIN);
  }

  take(peek: boolean): Datagram | undefined {
    const d = peek ? this.queue[0] : this.queue.shift();
    if (d && !peek) this.queued -= d.data.length + SKB_OVERHEAD;
    return d;
  }

  /** An ICMP port unreachable for what we sent to (dst, dport): only a connected socket
   *  hears of it (Linux __udp4_lib_err without IP_RECVERR). */
  unreachable(err: number): void {
    if (this.remote === null) return;
    this.err = err;
    this.owner?.notify(POLLERR);
  }

  /** Send one datagram from (src, lport) to (dst, dport). */
  send(src: IPAddr, dst: IPAddr, dport: number, data: Uint8Array): void {
    const ipLen = this.stack.ipHeaderLen(dst.length === 16);
    const pkt = new Uint8Array(ipLen + UDP_HEADER + data.length);
    pkt.set(data, ipLen + UDP_HEADER);
    writeUDP(pkt.subarray(ipLen), src, dst, this.lport, dport, false);
    this.stack.sendIP(pkt, src, dst, IPPROTO_UDP, this.ttl, this.tos, true);
    this.owner?.notify(POLLOUT);
  }
}
