// Raw IP endpoints of protocols other than ICMP (Linux net/ipv4/raw.c raw_v4_input, net/ipv6/
// raw.c ipv6_raw_deliver; ICMP's raw sockets are ../icmp/endpoint.ts): each receives a copy of
// every packet of its protocol that reaches the stack, before the transport sees it (so a raw
// UDP socket sees UDP datagrams, and a raw socket of a protocol the stack has no handler for
// is the only taker) — IPv4 with its IP header, IPv6 the payload alone — filtered by the
// bound address and the connected peer. Sockets send through the stack's sendIP (a header
// built for them) or sendPrebuilt (IP_HDRINCL).

import { POLLIN } from '../../abi/linux/poll';
import { addrEqual, type IPAddr } from '../addr';
import { finish, pseudoSum, sum16 } from '../checksum';
import type { Stack } from '../stack';
import { devMatches } from '../bound_dev';
import { perStack } from '../per_stack';

/** What a queued packet costs against SO_RCVBUF (its data plus an sk_buff's overhead). */
const SKB_OVERHEAD = 768;

/** A queued packet with what its IP header said, for the receive control messages (the
 *  address it was sent to, the interface it came in on, TTL / hop limit, TOS / traffic class). */
export interface RawDatagram { data: Uint8Array; from: IPAddr; to: IPAddr; ifindex: number; ttl: number; tos: number }

export class RawEndpoint {
  local: IPAddr | null = null;
  remote: IPAddr | null = null;
  readonly queue: RawDatagram[] = [];
  queued = 0;
  rcvBufSize = 212992;
  drops = 0;
  /** IPV6_CHECKSUM: the offset of the checksum in the payload, -1: none. */
  checksumOffset = -1;
  owner: { notify(mask: number): void } | null = null;

  constructor(readonly stack: Stack, readonly v6: boolean, readonly protocol: number) {
    registry(stack).add(this);
  }

  take(peek: boolean): RawDatagram | undefined {
    const d = peek ? this.queue[0] : this.queue.shift();
    if (d && !peek) this.queued -= d.data.length + SKB_OVERHEAD;
    return d;
  }

  /** raw_v4_match / ipv6_raw_deliver's checks, then the receive buffer's (sock_queue_rcv_skb). */
  offer(packet: Uint8Array, payload: Uint8Array, src: IPAddr, dst: IPAddr, ifindex: number): void {
    if (this.local && !addrEqual(this.local, dst)) return;
    if (!devMatches(this, ifindex)) return;
    if (this.remote && !addrEqual(this.remote, src)) return;
    if (this.v6 && this.checksumOffset >= 0 && !checksumOk(payload, src, dst, this.protocol, this.checksumOffset)) return;
    const data = (this.v6 ? payload : packet).slice();
    const cost = data.length + SKB_OVERHEAD;
    if (this.queued + cost > this.rcvBufSize && this.queue.length > 0) {
      this.drops++;
      return;
    }
    const v4 = packet[0] >> 4 === 4;
    this.queue.push({
      data, from: src.slice(), to: dst.slice(), ifindex,
      ttl: v4 ? packet[8] : packet[7], tos: v4 ? packet[1] : ((packet[0] & 0xf) << 4) | (packet[1] >> 4),
    });
    this.queued += cost;
    this.owner?.notify(POLLIN);
  }

  close(): void {
    registry(this.stack).delete(this);
    this.owner = null;
    this.queue.length = 0;
    this.queued = 0;
  }
}

/** An IPv6 payload whose checksum (at offset) is right over the pseudo-header. */
function checksumOk(payload: Uint8Array, src: IPAddr, dst: IPAddr, proto: number, offset: number): boolean {
  if (offset + 2 > payload.length) return false;
  return finish(sum16(payload, 0, payload.length, pseudoSum(src, dst, proto, payload.length))) === 0;
}

/** Write the IPv6 checksum of payload at offset (rawv6_push_pending_frames). */
export function fillChecksum6(payload: Uint8Array, src: IPAddr, dst: IPAddr, proto: number, offset: number): void {
  payload[offset] = 0;
  payload[offset + 1] = 0;
  let c = finish(sum16(payload, 0, payload.length, pseudoSum(src, dst, proto, payload.length)));
  if (c === 0) c = 0xffff;
  payload[offset] = c >> 8;
  payload[offset + 1] = c & 0xff;
}

const registry = perStack(() => new Set<RawEndpoint>());

/** The stack's raw endpoints, oldest first (/proc/net/raw). */
export function rawEndpoints(stack: Stack): ReadonlySet<RawEndpoint> { return registry(stack); }

/** A packet of protocol proto reached the stack: raw endpoints of that protocol take their
 *  copies (raw_local_deliver). packet is the whole IP packet, payload its transport part. */
export function rawSocketsInput(stack: Stack, packet: Uint8Array, payload: Uint8Array, src: IPAddr, dst: IPAddr, proto: number, v6: boolean, ifindex: number): void {
  const r = registry(stack);
  if (r.size === 0) return;
  for (const ep of r) if (ep.v6 === v6 && ep.protocol === proto) ep.offer(packet, payload, src, dst, ifindex);
}
