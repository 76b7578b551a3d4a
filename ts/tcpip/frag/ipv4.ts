// IPv4 fragmentation and reassembly (Linux net/ipv4/ip_fragment.c ip_defrag, ip_frag_queue,
// ip_frag_reasm, ip_expire; net/ipv4/ip_output.c ip_do_fragment). A fragment for this host is
// queued by (source, destination, identification, protocol) and the datagram goes on whole,
// its first fragment's header with the total length and checksum made anew. Linux's rules:
// the last fragment fixes the end (one that disagrees, or data beyond it, kills the queue);
// other fragments are cut to a multiple of 8; an empty one kills the queue; a datagram that
// would pass 65535 bytes is dropped; a queue left incomplete for ipfrag_time is dropped and,
// when its first fragment had come from another host, its sender gets "fragment reassembly
// time exceeded".
// Out, a packet larger than the MTU is cut at multiples of 8 of the payload; options without
// the copied flag are blanked (NOOP) in all but the first fragment (ip_options_fragment).

import { addrKey } from '../addr';
import { finish, sum16 } from '../checksum';
import { IP_MF, IP_OFFSET, IPV4_MAX_PACKET, type IPv4Packet } from '../header/ipv4';
import { mibOf } from '../mib';
import type { Stack } from '../stack';
import { icmpSendError } from '../icmp/send_error';
import { FragTable, IPFRAG_DUP, IPFRAG_OVERLAP, type FragLimits, type FragQueue } from './queue';

const ICMP_TIME_EXCEEDED = 11, ICMP_EXC_FRAGTIME = 1;

/** net.ipv4.ipfrag_* as a new network namespace has them. */
export function ipv4FragDefaults(): FragLimits & { maxDist: number } {
  return { highThresh: 4 * 1024 * 1024, lowThresh: 3 * 1024 * 1024, timeMs: 30_000, maxDist: 64 };
}

const tables = new WeakMap<Stack, FragTable>();
const limits = new WeakMap<Stack, FragLimits & { maxDist: number }>();

/** The stack's ipfrag sysctls (writable through /proc/sys/net/ipv4). */
export function ipv4FragLimits(stack: Stack): FragLimits & { maxDist: number } {
  let l = limits.get(stack);
  if (!l) limits.set(stack, l = ipv4FragDefaults());
  return l;
}

export function ipv4FragTable(stack: Stack): FragTable {
  let t = tables.get(stack);
  if (!t) tables.set(stack, t = new FragTable(ipv4FragLimits(stack), (q) => expired(stack, q)));
  return t;
}

/** ip_expire. */
function expired(stack: Stack, q: FragQueue): void {
  const mib = mibOf(stack);
  mib.ipReasmFails++;
  mib.ipReasmTimeout++;
  if (!q.firstIn || !q.head) return;
  // ip_expire routes the first fragment again (ip_route_input_noref), where a loopback
  // address (no route_localnet) or a source of this host (fib_validate_source) is a martian:
  // nothing is sent about those.
  if (q.head[12] === 127 || q.head[16] === 127 || stack.isLocalAddress(q.head.subarray(12, 16))) return;
  if (icmpSendError(stack, q.head, ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME)) {
    mib.icmpOutMsgs++;
    mib.icmpOutTimeExcds++;
    stack.flush();
  }
}

/** ip_defrag: p (a fragment, parsed as ip) joins its queue; the whole datagram when it is the
 *  last piece missing, else null. */
export function ipv4Defrag(stack: Stack, p: Uint8Array, ip: IPv4Packet): Uint8Array | null {
  const mib = mibOf(stack);
  mib.ipReasmReqds++;
  const t = ipv4FragTable(stack);
  const q = t.find(`${addrKey(ip.src)}|${addrKey(ip.dst)}|${ip.id}|${ip.proto}`);
  if (!q) { mib.ipReasmFails++; return null; }
  const discard = (): null => { t.kill(q); mib.ipReasmFails++; return null; };
  const offset = ip.fragOff;
  let end = offset + ip.payload.length;
  if (!ip.more) {
    if (end < q.len || (q.lastIn && end !== q.len)) return discard();
    q.lastIn = true;
    q.len = end;
  } else {
    end &= ~7;
    if (end > q.len) {
      if (q.lastIn) return discard();
      q.len = end;
    }
  }
  if (end === offset) return discard();
  const before = q.mem;
  const r = q.insert(offset, end, ip.payload.slice(0, end - offset));
  if (r === IPFRAG_DUP) return null;
  if (r === IPFRAG_OVERLAP) { mib.ipReasmOverlaps++; return discard(); }
  t.charge(q, before);
  if (offset === 0) {
    q.firstIn = true;
    q.head = p.slice(0, ip.ihl + ip.payload.length);
  }
  if (!q.done || !q.head) return null;
  t.kill(q);
  const ihl = (q.head[0] & 0xf) * 4;
  const total = ihl + q.len;
  if (total > IPV4_MAX_PACKET) { mib.ipReasmFails++; return null; }
  const out = new Uint8Array(total);
  out.set(q.head.subarray(0, ihl));
  q.assemble(out, ihl);
  out[2] = total >> 8;
  out[3] = total & 0xff;
  out[6] = 0;
  out[7] = 0;
  setHeaderChecksum(out, ihl);
  mib.ipReasmOKs++;
  return out;
}

function setHeaderChecksum(p: Uint8Array, ihl: number): void {
  p[10] = 0;
  p[11] = 0;
  const c = finish(sum16(p, 0, ihl));
  p[10] = c >> 8;
  p[11] = c & 0xff;
}

/** ip_options_fragment: the header of a later fragment, options without the copied flag
 *  turned into NOOPs (the length stays). */
function laterHeader(hdr: Uint8Array): Uint8Array {
  const h = hdr.slice();
  for (let i = 20; i < h.length;) {
    const type = h[i];
    if (type === 0) break;
    if (type === 1) { i++; continue; }
    const len = i + 1 < h.length ? h[i + 1] : 0;
    if (len < 2 || i + len > h.length) break;
    if ((type & 0x80) === 0) h.fill(1, i, i + len);
    i += len;
  }
  return h;
}

/** ip_do_fragment: pkt (a whole IPv4 packet of ours, checksums made) in fragments of at most
 *  mtu bytes; null when the MTU leaves no room for 8 bytes of data. */
export function ipv4Fragment(stack: Stack, pkt: Uint8Array, mtu: number): Uint8Array[] | null {
  const mib = mibOf(stack);
  const ihl = (pkt[0] & 0xf) * 4;
  const per = (mtu - ihl) & ~7;
  if (per < 8) { mib.ipFragFails++; return null; }
  const total = (pkt[2] << 8) | pkt[3];
  const data = pkt.subarray(ihl, total);
  const orig = (pkt[6] << 8) | pkt[7];
  const base = orig & IP_OFFSET;
  const later = laterHeader(pkt.subarray(0, ihl));
  const out: Uint8Array[] = [];
  for (let off = 0; off < data.length; off += per) {
    const n = Math.min(per, data.length - off);
    const f = new Uint8Array(ihl + n);
    f.set(off === 0 ? pkt.subarray(0, ihl) : later);
    f.set(data.subarray(off, off + n), ihl);
    const len = ihl + n;
    f[2] = len >> 8;
    f[3] = len & 0xff;
    // The last piece keeps MF when pkt was itself a fragment; fragments never carry DF.
    const more = off + n < data.length || (orig & IP_MF) !== 0;
    const fo = (base + (off >> 3)) | (more ? IP_MF : 0);
    f[6] = fo >> 8;
    f[7] = fo & 0xff;
    setHeaderChecksum(f, ihl);
    out.push(f);
  }
  mib.ipFragOKs++;
  mib.ipFragCreates += out.length;
  return out;
}
