// IPv4 and IPv6 fragmentation and reassembly (ts/tcpip/frag/), driven with packets alone: a
// datagram larger than lo's MTU leaves in fragments and arrives whole; fragments in any order,
// duplicates ignored; partial overlaps (teardrop, RFC 5722) drop the datagram; a datagram past
// 65535 bytes, empty and unaligned fragments are dropped as Linux drops them; IPv6's parameter
// problems; the timeout with its ICMP time exceeded (only when the first fragment came); the
// memory bound under a flood; and a fixed-seed fuzzer of fragment streams after which the
// tables are empty and the stack still delivers.
import { describe, expect, it } from 'vitest';
import { Stack, UdpEndpoint } from '../../../ts/tcpip/stack';
import { V4_LOOPBACK, V6_LOOPBACK, type IPAddr } from '../../../ts/tcpip/addr';
import { writeIPv4Header } from '../../../ts/tcpip/header/ipv4';
import { writeIPv6Header } from '../../../ts/tcpip/header/ipv6';
import { IPPROTO_UDP, writeUDP } from '../../../ts/tcpip/header/udp';
import { finish, sum16 } from '../../../ts/tcpip/checksum';
import { mibOf } from '../../../ts/tcpip/mib';
import { ipv4FragTable } from '../../../ts/tcpip/frag/ipv4';
import { IPPROTO_FRAGMENT, ipv6FragTable } from '../../../ts/tcpip/frag/ipv6';

const PORT = 7000;

function sink(stack: Stack, v6 = false): UdpEndpoint {
  const u = new UdpEndpoint(stack);
  const b = { v4: !v6, v6, addr: null, reuseAddr: false, reusePort: false, uid: 0, listening: () => false };
  u.lport = stack.udpPorts.reserve(PORT, b, u);
  u.binding = b;
  return u;
}

function payload(n: number, seed = 1): Uint8Array {
  const d = new Uint8Array(n);
  for (let i = 0; i < n; i++) d[i] = (i * 31 + seed) & 0xff;
  return d;
}

/** A whole UDP datagram to PORT, checksummed (v4: DF clear, identification id). */
function udpPacket(data: Uint8Array, v6 = false, id = 0x1234, addr?: IPAddr): Uint8Array {
  const src = addr ?? (v6 ? V6_LOOPBACK : V4_LOOPBACK);
  const ipLen = v6 ? 40 : 20;
  const pkt = new Uint8Array(ipLen + 8 + data.length);
  pkt.set(data, ipLen + 8);
  writeUDP(pkt.subarray(ipLen), src, src, 5555, PORT);
  if (v6) writeIPv6Header(pkt, src, src, IPPROTO_UDP, 64, 0);
  else {
    writeIPv4Header(pkt, src, src, IPPROTO_UDP, 64, 0, id);
    pkt[6] = 0;
    v4Sum(pkt);
  }
  return pkt;
}

function v4Sum(p: Uint8Array): void {
  p[10] = 0;
  p[11] = 0;
  const c = finish(sum16(p, 0, 20));
  p[10] = c >> 8;
  p[11] = c & 0xff;
}

/** An IPv4 fragment: bytes [off, off+len) of pkt's payload, MF as given. */
function frag4(pkt: Uint8Array, off: number, len: number, more: boolean): Uint8Array {
  const body = pkt.subarray(20).subarray(off, off + len);
  const f = new Uint8Array(20 + body.length);
  f.set(pkt.subarray(0, 20));
  f.set(body, 20);
  f[2] = f.length >> 8;
  f[3] = f.length & 0xff;
  const fo = (off >> 3) | (more ? 0x2000 : 0);
  f[6] = fo >> 8;
  f[7] = fo & 0xff;
  v4Sum(f);
  return f;
}

/** An IPv6 fragment of pkt's payload with a Fragment header of identification id. */
function frag6(pkt: Uint8Array, off: number, len: number, more: boolean, id = 77): Uint8Array {
  const body = pkt.subarray(40).subarray(off, off + len);
  const f = new Uint8Array(48 + body.length);
  f.set(pkt.subarray(0, 40));
  const plen = 8 + body.length;
  f[4] = plen >> 8;
  f[5] = plen & 0xff;
  f[6] = IPPROTO_FRAGMENT;
  f[40] = pkt[6];
  const fo = off | (more ? 1 : 0);
  f[42] = (fo >> 8) & 0xff;
  f[43] = fo & 0xff;
  new DataView(f.buffer).setUint32(44, id);
  f.set(body, 48);
  return f;
}

function deliverAll(stack: Stack, ps: Uint8Array[]): void {
  for (const p of ps) stack.deliver(p);
  stack.flush();
}

/** Capture what the stack sends (ICMP errors) while it still sends it. */
function capture(stack: Stack): Uint8Array[] {
  const sent: Uint8Array[] = [];
  const orig = stack.sendIP.bind(stack);
  stack.sendIP = (pkt, src: IPAddr, dst: IPAddr, proto, ttl, tos, partial, room) => {
    orig(pkt, src, dst, proto, ttl, tos, partial, room);
    sent.push(pkt.slice());
  };
  return sent;
}

describe.each([false, true])('fragmentation out, reassembly in (v6 %s)', (v6) => {
  it('a datagram past lo\'s MTU leaves in fragments and arrives whole', () => {
    const stack = new Stack();
    stack.lo.mtu = 1500;
    const u = sink(stack, v6);
    const data = payload(5000);
    const tx = new UdpEndpoint(stack);
    tx.lport = 5555;
    const a = v6 ? V6_LOOPBACK : V4_LOOPBACK;
    tx.send(a, a, PORT, data);
    stack.flush();
    expect(u.queue.length).toBe(1);
    expect(u.queue[0].data).toEqual(data);
    const m = mibOf(stack);
    expect(v6 ? m.ip6FragCreates : m.ipFragCreates).toBe(4);
    expect(v6 ? m.ip6ReasmOKs : m.ipReasmOKs).toBe(1);
    expect((v6 ? ipv6FragTable : ipv4FragTable)(stack).size).toBe(0);
  });

  it('fragments in reverse order and with a contained duplicate are reassembled once', () => {
    const stack = new Stack();
    const u = sink(stack, v6);
    const pkt = udpPacket(payload(3000), v6);
    const f = v6 ? frag6 : frag4;
    const pieces = [f(pkt, 0, 1000, true), f(pkt, 1000, 1000, true), f(pkt, 2000, 1008, false)];
    deliverAll(stack, [pieces[2], f(pkt, 2000, 504, true), pieces[1], pieces[0]]);
    expect(u.queue.length).toBe(1);
    expect(u.queue[0].data).toEqual(payload(3000));
    // After completion the same fragments start a new datagram, which they complete again.
    deliverAll(stack, pieces);
    expect(u.queue.length).toBe(2);
  });

  it('a partial overlap drops the whole datagram (teardrop, RFC 5722)', () => {
    const stack = new Stack();
    const u = sink(stack, v6);
    const pkt = udpPacket(payload(3000), v6);
    const f = v6 ? frag6 : frag4;
    deliverAll(stack, [f(pkt, 0, 1000, true), f(pkt, 992, 1008, true), f(pkt, 1000, 1000, true), f(pkt, 2000, 1008, false)]);
    // The overlap killed the first queue; the rest started a second that never completes.
    expect(u.queue.length).toBe(0);
    if (!v6) expect(mibOf(stack).ipReasmOverlaps).toBe(1);
    // Classic teardrop: a last fragment ending inside what came before.
    const s2 = new Stack();
    const u2 = sink(s2, v6);
    deliverAll(s2, [f(pkt, 0, 1000, true), f(pkt, 24, 8, false), f(pkt, 1000, 2008, false)]);
    expect(u2.queue.length).toBe(0);
  });

  it('empty and unaligned fragments, and a datagram past 65535 bytes, are dropped; tiny ones reassemble', () => {
    const stack = new Stack();
    const u = sink(stack, v6);
    const f = (p: Uint8Array, off: number, len: number, more: boolean): Uint8Array =>
      // (IPv6: each test datagram's own payload length serves as its identification.)
      v6 ? frag6(p, off, len, more, p[5] * 256 + p[4]) : frag4(p, off, len, more);
    const small = udpPacket(payload(56), v6);
    // 8-byte pieces, out of order.
    const tiny = [];
    for (let off = 0; off < 64; off += 8) tiny.push(f(small, off, 8, off + 8 < 64));
    deliverAll(stack, tiny.reverse());
    expect(u.queue.length).toBe(1);
    // An empty non-last fragment kills the queue its datagram had.
    const pkt = udpPacket(payload(100), v6, 9);
    deliverAll(stack, [f(pkt, 0, 16, true), f(pkt, 16, 0, true), f(pkt, 16, 92, false)]);
    expect(u.queue.length).toBe(1);
    // A datagram whose fragments reach past 65535.
    const big = new Uint8Array(65600);
    const hdr = udpPacket(new Uint8Array(0), v6, 10).subarray(0, v6 ? 40 : 20);
    const whole = new Uint8Array(hdr.length + big.length);
    whole.set(hdr);
    const pieces = [];
    for (let off = 0; off < big.length; off += 1480) pieces.push(f(whole, off, Math.min(1480, big.length - off), off + 1480 < big.length));
    expect(() => deliverAll(stack, pieces)).not.toThrow();
    expect(u.queue.length).toBe(1);
    // Left: the datagram the empty fragment's successor began and, in IPv6, the one whose
    // fragment past 65535 only drew a parameter problem; in IPv4 the oversized one is gone.
    expect((v6 ? ipv6FragTable : ipv4FragTable)(stack).size).toBe(v6 ? 2 : 1);
    if (!v6) expect(mibOf(stack).ipReasmFails).toBe(2);
  });

  it('an incomplete datagram expires; time exceeded goes back only when its first fragment came', () => {
    const stack = new Stack();
    // IPv4 answers nothing about a loopback address or one of its own (ip_expire's route
    // lookup takes them for martians): this datagram comes from another host on eth0.
    const own = new Uint8Array([10, 0, 2, 15]);
    const eth0 = stack.addEthernet('eth0', new Uint8Array([2, 0, 0, 0, 0, 1]));
    stack.routeTable.addAddress(eth0.info, own, 24);
    sink(stack, v6);
    const sent = capture(stack);
    const f = v6 ? frag6 : frag4;
    const pkt = udpPacket(payload(3000), v6);
    if (v6) deliverAll(stack, [f(pkt, 0, 1000, true)]);
    else {
      const far = udpPacket(payload(3000), false, 0x1234, own);
      far.set([10, 0, 2, 2], 12);
      v4Sum(far);
      stack.deliver(f(far, 0, 1000, true), eth0.info);
      deliverAll(stack, [f(udpPacket(payload(3000), false, 98), 0, 1000, true)]);
    }
    const other = udpPacket(payload(3000), v6, 99);
    deliverAll(stack, [v6 ? frag6(other, 1000, 1000, true, 99) : frag4(other, 1000, 1000, true)]);
    const t = (v6 ? ipv6FragTable : ipv4FragTable)(stack);
    const n = v6 ? 2 : 3;
    expect(t.size).toBe(n);
    t.expire(performance.now() + (v6 ? 59_000 : 29_000));
    expect(t.size).toBe(n);
    t.expire(performance.now() + (v6 ? 61_000 : 31_000));
    expect(t.size).toBe(0);
    expect(t.mem).toBe(0);
    expect(sent.length).toBe(1);
    const ipLen = v6 ? 40 : 20;
    expect([sent[0][ipLen], sent[0][ipLen + 1]]).toEqual(v6 ? [3, 1] : [11, 1]);
    // It quotes the first fragment, and goes back to its source.
    expect(sent[0].subarray(ipLen + 8 + 4, ipLen + 8 + 8)).toEqual(f(pkt, 0, 1000, true).subarray(4, 8));
    if (!v6) expect([...sent[0].subarray(ipLen + 8 + 12, ipLen + 8 + 16)]).toEqual([10, 0, 2, 2]);
    const m = mibOf(stack);
    expect(v6 ? m.ip6ReasmTimeout : m.ipReasmTimeout).toBe(n);
  });

  it('a flood of fragments stays within high_thresh and drops past it', () => {
    const stack = new Stack();
    const t = (v6 ? ipv6FragTable : ipv4FragTable)(stack);
    t.limits.highThresh = 256 * 1024;
    for (let id = 0; id < 5000; id++) {
      const pkt = udpPacket(payload(1400, id), v6, id);
      stack.deliver(v6 ? frag6(pkt, 0, 1400, true, id) : frag4(pkt, 0, 1400, true));
      expect(t.mem).toBeLessThanOrEqual(t.limits.highThresh + 1400 + 1024);
    }
    expect(t.size).toBeLessThan(5000);
    const m = mibOf(stack);
    expect(v6 ? m.ip6ReasmFails : m.ipReasmFails).toBeGreaterThan(0);
    t.expire(performance.now() + 120_000);
    expect(t.mem).toBe(0);
  });
});

describe('IPv6 fragment header checks', () => {
  it('parameter problems: unaligned length, past 65535, no upper-layer header; an atomic fragment is delivered', () => {
    const stack = new Stack();
    const u = sink(stack, true);
    const sent = capture(stack);
    const pkt = udpPacket(payload(3000), true);
    deliverAll(stack, [frag6(pkt, 0, 1001, true)]);
    deliverAll(stack, [frag6(udpPacket(payload(65592), true), 65528, 16, false)]);
    deliverAll(stack, [frag6(pkt, 0, 4, true)]);
    const probs = sent.map((p) => [p[40], p[41], new DataView(p.buffer, p.byteOffset).getUint32(44)]);
    expect(probs).toEqual([[4, 0, 4], [4, 0, 42], [4, 3, 0]]);
    deliverAll(stack, [frag6(pkt, 0, 3008, false)]);
    expect(u.queue.length).toBe(1);
    expect(u.queue[0].data).toEqual(payload(3000));
  });
});

describe('fragment fuzzer (fixed seed)', () => {
  it('20000 random fragments of few datagrams never throw, stay bounded, and leave the stack working', () => {
    let seed = 0x5eed;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const stack = new Stack();
    const u4 = sink(stack, false);
    const u6 = sink(stack, true);
    const t4 = ipv4FragTable(stack);
    const t6 = ipv6FragTable(stack);
    t4.limits.highThresh = 512 * 1024;
    t6.limits.highThresh = 512 * 1024;
    const sources = [false, true].map((v6) => [0, 1, 2, 3].map((id) => udpPacket(payload(200 + id * 997, id), v6, id + 1)));
    for (let i = 0; i < 20_000; i++) {
      const v6 = rnd(2) === 1;
      const k = rnd(4);
      const pkt = sources[v6 ? 1 : 0][k];
      const plen = pkt.length - (v6 ? 40 : 20);
      const off = rnd(6) === 0 ? rnd(8192) * 8 : rnd(Math.ceil(plen / 8)) * 8;
      const len = rnd(5) === 0 ? rnd(16) : rnd(1500);
      let f = v6 ? frag6(pkt, off, len, rnd(3) !== 0, k + 1) : frag4(pkt, off, len, rnd(3) !== 0);
      if (rnd(10) === 0) {
        f = f.slice();
        f[rnd(Math.min(f.length, 48))] ^= 1 << rnd(8);
      }
      if (rnd(20) === 0) f = f.subarray(0, rnd(f.length + 1));
      stack.deliver(f);
      if (i % 64 === 0) stack.flush();
      expect(t4.mem).toBeLessThanOrEqual(t4.limits.highThresh + 2048);
      expect(t6.mem).toBeLessThanOrEqual(t6.limits.highThresh + 2048);
    }
    stack.flush();
    for (const d of [...u4.queue, ...u6.queue]) expect([200, 1197, 2194, 3191]).toContain(d.data.length);
    t4.expire(performance.now() + 120_000);
    t6.expire(performance.now() + 120_000);
    expect([t4.size, t4.mem, t6.size, t6.mem]).toEqual([0, 0, 0, 0]);
    u4.queue.length = 0;
    u4.queued = 0;
    deliverAll(stack, [frag4(udpPacket(payload(100), false, 500), 0, 56, true), frag4(udpPacket(payload(100), false, 500), 56, 52, false)]);
    expect(u4.queue.map((d) => d.data)).toEqual([payload(100)]);
  });
});
