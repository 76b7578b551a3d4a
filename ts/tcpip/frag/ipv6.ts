// IPv6 fragmentation and reassembly (Linux net/ipv6/reassembly.c ipv6_frag_rcv, ip6_frag_queue,
// ip6_frag_reasm, ip6_frag_expire; net/ipv6/ip6_output.c ip6_fragment). Only the source
// fragments in IPv6: a packet of ours larger than the MTU gets a Fragment header (RFC 8200
// 4.5) after the fixed header and leaves in pieces cut at multiples of 8. In, a Fragment
// header right after the fixed header is reassembled by (source, destination, identification);
// an atomic fragment (offset 0, no M) is simply unwrapped (RFC 6946). Linux's answers: a
// parameter problem for a non-last fragment whose length is not a multiple of 8 (pointing at
// the payload length), for one that would end past 65535 (pointing at the fragment offset),
// for an empty Fragment header or a jumbogram (pointing at the header), and code 3 when the
// first fragment does not hold the upper-layer header (RFC 8200, RFC 7112); overlaps drop the
// datagram (RFC 5722, queue.ts); ip6frag_time (60 s) expires a queue with "fragment
// reassembly time exceeded" when its first fragment came.

import { addrKey } from '../addr';
import { IPPROTO_ICMPV6 } from '../header/icmp';
import { IPV6_HEADER, IPV6_MAX_PAYLOAD, type IPv6Packet } from '../header/ipv6';
import { IPPROTO_TCP } from '../header/tcp';
import { IPPROTO_UDP } from '../header/udp';
import { mibOf } from '../mib';
import type { Stack } from '../stack';
import { icmpSendError } from '../icmp/send_error';
import { FragTable, IPFRAG_DUP, IPFRAG_OVERLAP, type FragLimits, type FragQueue } from './queue';

export const IPPROTO_FRAGMENT = 44;
const FRAG_HDR = 8;
const ICMPV6_TIME_EXCEED = 3, ICMPV6_EXC_FRAGTIME = 1;
const ICMPV6_PARAMPROB = 4, ICMPV6_HDR_FIELD = 0, ICMPV6_HDR_INCOMP = 3;

const tables = new WeakMap<Stack, FragTable>();
const limits = new WeakMap<Stack, FragLimits>();
const idents = new WeakMap<Stack, { next: number }>();

/** The stack's ip6frag sysctls (writable through /proc/sys/net/ipv6). */
export function ipv6FragLimits(stack: Stack): FragLimits {
  let l = limits.get(stack);
  if (!l) limits.set(stack, l = { highThresh: 4 * 1024 * 1024, lowThresh: 3 * 1024 * 1024, timeMs: 60_000 });
  return l;
}

export function ipv6FragTable(stack: Stack): FragTable {
  let t = tables.get(stack);
  if (!t) tables.set(stack, t = new FragTable(ipv6FragLimits(stack), (q) => expired(stack, q)));
  return t;
}

/** ip6_frag_expire_frag_queue. */
function expired(stack: Stack, q: FragQueue): void {
  const mib = mibOf(stack);
  mib.ip6ReasmFails++;
  mib.ip6ReasmTimeout++;
  if (!q.firstIn || !q.head) return;
  if (icmpSendError(stack, q.head, ICMPV6_TIME_EXCEED, ICMPV6_EXC_FRAGTIME)) {
    mib.icmp6OutMsgs++;
    stack.flush();
  }
}

/** icmpv6_param_prob about p, which is dropped. */
function paramProblem(stack: Stack, p: Uint8Array, code: number, pointer: number): null {
  const mib = mibOf(stack);
  mib.ip6InHdrErrors++;
  if (icmpSendError(stack, p, ICMPV6_PARAMPROB, code, pointer)) mib.icmp6OutMsgs++;
  return null;
}

/** The least the first fragment must hold past its Fragment header (ipv6frag_thdr_truncated). */
function upperHeaderLen(nexthdr: number): number {
  return nexthdr === IPPROTO_TCP ? 20 : nexthdr === IPPROTO_UDP || nexthdr === IPPROTO_ICMPV6 ? 8 : 1;
}

/** ipv6_frag_rcv: p (its next header a Fragment header, parsed as ip) joins its queue; the
 *  whole packet, Fragment header gone, when it completes it (or was atomic), else null. */
export function ipv6Defrag(stack: Stack, p: Uint8Array, ip: IPv6Packet): Uint8Array | null {
  const mib = mibOf(stack);
  mib.ip6ReasmReqds++;
  const fh = ip.payload;
  if (fh.length === 0 || fh.length < FRAG_HDR) return paramProblem(stack, p, ICMPV6_HDR_FIELD, IPV6_HEADER);
  const nexthdr = fh[0];
  const fo = (fh[2] << 8) | fh[3];
  const offset = fo & ~7;
  const more = (fo & 1) !== 0;
  if (offset === 0 && !more) {
    mib.ip6ReasmOKs++;
    return unwrapped(p.subarray(0, IPV6_HEADER), nexthdr, fh.subarray(FRAG_HDR));
  }
  if (offset === 0 && IPV6_HEADER + FRAG_HDR + upperHeaderLen(nexthdr) > IPV6_HEADER + fh.length) {
    return paramProblem(stack, p, ICMPV6_HDR_INCOMP, 0);
  }
  const t = ipv6FragTable(stack);
  const id = ((fh[4] << 24) | (fh[5] << 16) | (fh[6] << 8) | fh[7]) >>> 0;
  const q = t.find(`${addrKey(ip.src)}|${addrKey(ip.dst)}|${id}`);
  if (!q) { mib.ip6ReasmFails++; return null; }
  const data = fh.subarray(FRAG_HDR);
  const end = offset + data.length;
  if (end > IPV6_MAX_PAYLOAD) return paramProblem(stack, p, ICMPV6_HDR_FIELD, IPV6_HEADER + 2);
  const discard = (): null => { t.kill(q); mib.ip6ReasmFails++; return null; };
  if (!more) {
    if (end < q.len || (q.lastIn && end !== q.len)) return discard();
    q.lastIn = true;
    q.len = end;
  } else {
    if (end & 7) return paramProblem(stack, p, ICMPV6_HDR_FIELD, 4);
    if (end > q.len) {
      if (q.lastIn) return discard();
      q.len = end;
    }
  }
  if (end === offset) return discard();
  const before = q.mem;
  const r = q.insert(offset, end, data.slice());
  if (r === IPFRAG_DUP) return null;
  if (r === IPFRAG_OVERLAP) return discard();
  t.charge(q, before);
  if (offset === 0) {
    q.firstIn = true;
    q.head = p.slice(0, IPV6_HEADER + fh.length);
  }
  if (!q.done || !q.head) return null;
  t.kill(q);
  const out = new Uint8Array(IPV6_HEADER + q.len);
  q.assemble(out, IPV6_HEADER);
  mib.ip6ReasmOKs++;
  return unwrapped(q.head.subarray(0, IPV6_HEADER), q.head[IPV6_HEADER], out.subarray(IPV6_HEADER), out);
}

/** The fixed header hdr, its next header and payload length set, over payload (written into
 *  `into` when given, else a new packet). */
function unwrapped(hdr: Uint8Array, nexthdr: number, payload: Uint8Array, into?: Uint8Array): Uint8Array {
  const out = into ?? new Uint8Array(IPV6_HEADER + payload.length);
  out.set(hdr);
  if (!into) out.set(payload, IPV6_HEADER);
  out[4] = payload.length >> 8;
  out[5] = payload.length & 0xff;
  out[6] = nexthdr;
  return out;
}

/** ipv6_select_ident: a fragment identification for a new datagram of this stack. */
function nextIdent(stack: Stack): number {
  let s = idents.get(stack);
  if (!s) idents.set(stack, s = { next: Math.floor(Math.random() * 0x1_0000_0000) });
  s.next = (s.next + 1) >>> 0;
  return s.next;
}

/** ip6_fragment: pkt (a whole IPv6 packet of ours, no extension headers, checksums made) in
 *  fragments of at most mtu bytes; null when the MTU leaves no room for 8 bytes of data. */
export function ipv6Fragment(stack: Stack, pkt: Uint8Array, mtu: number): Uint8Array[] | null {
  const per = (mtu - IPV6_HEADER - FRAG_HDR) & ~7;
  if (per < 8) return null;
  const nexthdr = pkt[6];
  const data = pkt.subarray(IPV6_HEADER, IPV6_HEADER + ((pkt[4] << 8) | pkt[5]));
  const id = nextIdent(stack);
  const out: Uint8Array[] = [];
  for (let off = 0; off < data.length; off += per) {
    const n = Math.min(per, data.length - off);
    const f = new Uint8Array(IPV6_HEADER + FRAG_HDR + n);
    f.set(pkt.subarray(0, IPV6_HEADER));
    const plen = FRAG_HDR + n;
    f[4] = plen >> 8;
    f[5] = plen & 0xff;
    f[6] = IPPROTO_FRAGMENT;
    const h = IPV6_HEADER;
    f[h] = nexthdr;
    const fo = off | (off + n < data.length ? 1 : 0);
    f[h + 2] = fo >> 8;
    f[h + 3] = fo & 0xff;
    f[h + 4] = id >>> 24;
    f[h + 5] = (id >> 16) & 0xff;
    f[h + 6] = (id >> 8) & 0xff;
    f[h + 7] = id & 0xff;
    f.set(data.subarray(off, off + n), h + FRAG_HDR);
    out.push(f);
  }
  const mib = mibOf(stack);
  mib.ip6FragOKs++;
  mib.ip6FragCreates += out.length;
  return out;
}
