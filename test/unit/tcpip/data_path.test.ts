// The TCP data path over loopback, driven without sockets: 64 KiB segments that are views of
// the sender's chunks (send_queue.ts) recycled through the chunk pool (chunk_pool.ts) keep
// every byte right, also with two connections sharing the pool and a reader that takes odd
// amounts; checksum offload on lo (header/offload.ts) trusts only the stack's own packets;
// silly window avoidance on both ends.
import { describe, expect, it } from 'vitest';
import { setTcpTimestamps } from '../../../ts/tcpip/tcp/timestamps';
import { Stack, type TcpEndpoint } from '../../../ts/tcpip/stack';
import { ChunkPool, chunkPool } from '../../../ts/tcpip/tcp/chunk_pool';
import { HEADROOM, LINK_ROOM, SendQueue } from '../../../ts/tcpip/tcp/send_queue';
import { IPV4_HEADER, parseIPv4, writeIPv4Header } from '../../../ts/tcpip/header/ipv4';
import { IPPROTO_TCP, TH_ACK, parseTCP, tcpHeaderLen, writeTCP } from '../../../ts/tcpip/header/tcp';
import { IPPROTO_UDP, UDP_HEADER, parseUDP, writeUDP } from '../../../ts/tcpip/header/udp';
import { fillTransportChecksum } from '../../../ts/tcpip/header/offload';
import { V4_LOOPBACK } from '../../../ts/tcpip/addr';
import { client, listener } from './endpoints';

/** Byte i of stream `id`: differs between streams and along each. */
const byteOf = (id: number, i: number): number => (i * 13 + (i >>> 9) + id * 101) & 0xff;

function stream(id: number, from: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = byteOf(id, from + i);
  return b;
}

/** A sender's view of a transfer: what it wrote so far. */
interface Flow { id: number; c: TcpEndpoint; s: TcpEndpoint; sent: number; got: number; bad: number }

function pump(f: Flow, total: number, writeSize: number): void {
  while (f.sent < total && f.c.sndSpace > 0) {
    const n = Math.min(writeSize, total - f.sent, f.c.sndSpace);
    f.c.enqueue(stream(f.id, f.sent, n));
    f.sent += n;
    f.c.output();
  }
}

function take(f: Flow, max: number): void {
  const buf = new Uint8Array(max);
  const n = f.s.readInto(buf, false);
  for (let i = 0; i < n; i++) if (buf[i] !== byteOf(f.id, f.got + i)) f.bad++;
  f.got += n;
}

describe('tcp data path: views of pooled chunks', () => {
  it('two interleaved 8 MiB transfers with odd write and read sizes arrive intact', () => {
    const stack = new Stack();
    setTcpTimestamps(stack, 0); // segments of the whole MSS, no 12-byte timestamps option
    const l = listener(stack, 7300);
    const flows: Flow[] = [];
    for (let id = 1; id <= 2; id++) {
      const c = client(stack, 7300);
      const s = l.acceptQueue.shift()!;
      flows.push({ id, c, s, sent: 0, got: 0, bad: 0 });
    }
    expect(flows[0].c.sndMss).toBe(65495);
    const total = 8 << 20;
    const writes = [100_003, 1 << 20, 777];
    const reads = [65536, 1, 300_001, 4096];
    for (let round = 0; round < 100_000 && flows.some((f) => f.got < total); round++) {
      for (const f of flows) {
        pump(f, total, writes[round % writes.length]);
        stack.flush();
        take(f, reads[(round + f.id) % reads.length]);
        stack.flush();
      }
    }
    for (const f of flows) {
      expect(f.got).toBe(total);
      expect(f.bad).toBe(0);
    }
  });

  it('a peek or a read() of a pooled view is a copy the pool cannot reuse under it', () => {
    const stack = new Stack();
    const l = listener(stack, 7301);
    const c = client(stack, 7301);
    const s = l.acceptQueue.shift()!;
    c.enqueue(stream(3, 0, 3 * 65495));
    c.output();
    stack.flush();
    const peeked = s.read(1000, true);
    const got = s.read(65495, false);
    // The chunk has been acknowledged and read: it may be recycled now.
    c.enqueue(new Uint8Array(4 * 65495).fill(0xee));
    c.output();
    stack.flush();
    expect(peeked).toEqual(stream(3, 0, 1000));
    expect(got).toEqual(stream(3, 0, 65495));
  });
});

describe('tcp data path: copies straight from and to the application', () => {
  it('a fill that comes up short (a fault) queues what it copied and no more; a short put consumes only what it took', () => {
    const stack = new Stack();
    const l = listener(stack, 7302);
    const c = client(stack, 7302);
    const s = l.acceptQueue.shift()!;
    const src = stream(6, 0, 200_000);
    let at = 0;
    // The source "faults" 150,000 bytes in, in the middle of the third chunk.
    const n = c.enqueueFrom(200_000, (dst) => {
      const k = Math.max(0, Math.min(dst.length, 150_000 - at));
      dst.set(src.subarray(at, at + k));
      at += k;
      return k;
    });
    expect(n).toBe(150_000);
    expect(c.sndQueued).toBe(150_000);
    c.output();
    stack.flush();
    expect(s.rcvQueued).toBe(150_000);
    // The destination takes 70,000 bytes, then faults: only those are consumed.
    const out = new Uint8Array(150_000);
    let got = 0;
    const took = s.readTo(150_000, false, (v) => {
      const k = Math.min(v.length, 70_000 - got);
      out.set(v.subarray(0, k), got);
      got += k;
      return k;
    });
    expect(took).toBe(70_000);
    expect(s.rcvQueued).toBe(80_000);
    expect(s.readInto(out.subarray(70_000), false)).toBe(80_000);
    expect(out).toEqual(src.subarray(0, 150_000));
    // A fill that faults at once queues nothing and keeps no chunk.
    expect(c.enqueueFrom(1000, () => 0)).toBe(0);
    expect(c.sndQueued).toBe(0);
  });
});

describe('tcp data path: the send queue', () => {
  it('a segment that starts a chunk is a view of it; one that does not is a copy', () => {
    const q = new SendQueue();
    const goal = 1000;
    q.append(stream(4, 0, 2500), goal);
    const hdr = IPV4_HEADER + 20;
    const first = q.packet(hdr, 0, 1000);
    expect(first.byteOffset).toBe(HEADROOM - hdr);
    expect(first.buffer.byteLength).toBe(HEADROOM + goal);
    // Sent once: a second packet of the same range (a retransmission) is a copy.
    const again = q.packet(hdr, 0, 1000);
    expect(again.buffer).not.toBe(first.buffer);
    expect(again.subarray(hdr)).toEqual(first.subarray(hdr));
    // Across a chunk boundary: a copy with the right bytes.
    const span = q.packet(hdr, 900, 300);
    expect(span.byteOffset).toBe(LINK_ROOM); // room of its own for the link header
    expect(span.subarray(hdr)).toEqual(stream(4, 900, 300));
    expect(q.segmentLimit(900)).toBe(100);
    expect(q.segmentLimit(1000)).toBe(Infinity);
  });

  it('small unsent writes coalesce into one growing chunk, never more than twice its data', () => {
    const q = new SendQueue();
    for (let i = 0; i < 10; i++) q.append(stream(5, i * 70, 70), 65000);
    const p = q.packet(40, 0, 700);
    expect(p.subarray(40)).toEqual(stream(5, 0, 700));
    // Sent: the next write starts a chunk of its own, the sent bytes stay as they were.
    q.append(stream(5, 700, 50), 65000);
    expect(p.subarray(40)).toEqual(stream(5, 0, 700));
    const next = q.packet(40, 700, 50);
    expect(next.subarray(40)).toEqual(stream(5, 700, 50));
    // Small chunks are regions of one slab (slab.ts), the next right after the last: the
    // grown chunk took at most twice its data.
    expect(next.buffer).toBe(p.buffer);
    expect(next.byteOffset - p.byteOffset).toBeLessThanOrEqual(HEADROOM + 2 * 700 + 7);
    q.dropAcked(750);
    expect(q.bytes).toBe(0);
  });
});

describe('tcp data path: the chunk pool', () => {
  it('a buffer comes back only when its last holder lets go, and only once', () => {
    const pool = new ChunkPool();
    const a = pool.take(4096);
    expect(pool.retain(a.subarray(100, 200))).toBe(true);
    expect(pool.retain(new Uint8Array(4096))).toBe(false);
    pool.release(a.buffer);
    const b = pool.take(4096);
    expect(b.buffer).not.toBe(a.buffer);
    pool.release(a.buffer);
    // A release too many is ignored: the buffer is not handed out twice.
    pool.release(a.buffer);
    const c = pool.take(4096);
    const d = pool.take(4096);
    expect(c.buffer).toBe(a.buffer);
    expect(d.buffer).not.toBe(a.buffer);
    expect(chunkPool).toBeInstanceOf(ChunkPool);
  });
});

describe('checksum offload on lo', () => {
  it("the stack's own segments go without a checksum; a forged one with a bad checksum is dropped", () => {
    const stack = new Stack();
    const l = listener(stack, 7302);
    const c = client(stack, 7302);
    const s = l.acceptQueue.shift()!;
    const sent: Uint8Array[] = [];
    const send = stack.loopback.send.bind(stack.loopback);
    stack.loopback.send = (pkt: Uint8Array, offloaded = false): void => { sent.push(pkt.slice()); send(pkt, offloaded); };
    c.enqueue(stream(6, 0, 5000));
    c.output();
    stack.flush();
    expect(s.rcvQueued).toBe(5000);
    const ip = parseIPv4(sent[0])!;
    expect(parseTCP(ip.payload, ip.src, ip.dst)).toBeNull();
    expect(parseTCP(ip.payload, ip.src, ip.dst, false)!.data).toEqual(stream(6, 0, 5000));
    // Forged: right sequence numbers, checksum made and then spoilt.
    const o = { srcPort: c.lport, dstPort: s.lport, seq: s.rcvNxt, ack: s.sndNxt, flags: TH_ACK, window: 1000 };
    const pkt = new Uint8Array(IPV4_HEADER + tcpHeaderLen(o) + 10);
    writeTCP(pkt.subarray(IPV4_HEADER), o, V4_LOOPBACK, V4_LOOPBACK);
    pkt[IPV4_HEADER + 17] ^= 1;
    writeIPv4Header(pkt, V4_LOOPBACK, V4_LOOPBACK, IPPROTO_TCP, 64, 0, 1);
    const dropped = stack.stats.ipDropped;
    stack.loopback.send(pkt);
    stack.flush();
    expect(s.rcvQueued).toBe(5000);
    expect(stack.stats.ipDropped).toBe(dropped + 1);
    // Its twin with the checksum intact is taken.
    pkt[IPV4_HEADER + 17] ^= 1;
    stack.loopback.send(pkt);
    stack.flush();
    expect(s.rcvQueued).toBe(5010);
  });

  it('a packet leaving through another link gets the checksum writeTCP and writeUDP would make', () => {
    const src = new Uint8Array([10, 0, 2, 15]);
    const dst = new Uint8Array([10, 0, 2, 2]);
    for (let len = 0; len < 40; len += 7) {
      const o = { srcPort: 1234, dstPort: 80, seq: 0xdeadbeef, ack: 77, flags: TH_ACK, window: 512 };
      const full = new Uint8Array(IPV4_HEADER + 20 + len).map((_, i) => (i * 31) & 0xff);
      const partial = full.slice();
      writeTCP(full.subarray(IPV4_HEADER), o, src, dst);
      writeTCP(partial.subarray(IPV4_HEADER), o, src, dst, false);
      writeIPv4Header(partial, src, dst, IPPROTO_TCP, 64, 0, 1);
      fillTransportChecksum(partial, IPPROTO_TCP, src, dst);
      expect(partial.subarray(IPV4_HEADER)).toEqual(full.subarray(IPV4_HEADER));
      const u = new Uint8Array(IPV4_HEADER + UDP_HEADER + len).map((_, i) => (i * 17) & 0xff);
      const up = u.slice();
      writeUDP(u.subarray(IPV4_HEADER), src, dst, 53, 4000);
      writeUDP(up.subarray(IPV4_HEADER), src, dst, 53, 4000, false);
      writeIPv4Header(up, src, dst, IPPROTO_UDP, 64, 0, 1);
      fillTransportChecksum(up, IPPROTO_UDP, src, dst);
      expect(up.subarray(IPV4_HEADER)).toEqual(u.subarray(IPV4_HEADER));
      expect(parseUDP(up.subarray(IPV4_HEADER), src, dst)).not.toBeNull();
    }
  });
});

describe('silly window avoidance', () => {
  it('the receiver offers no window below a segment and half its buffer; the sender holds a cut segment until the reader makes room', () => {
    const stack = new Stack();
    setTcpTimestamps(stack, 0); // segments of the whole MSS, no 12-byte timestamps option
    const l = listener(stack, 7303);
    const c = client(stack, 7303);
    const s = l.acceptQueue.shift()!;
    s.rcvBufSize = 200_000;
    s.sendAck();
    stack.flush();
    // 3 segments fill 196485 of 200000 bytes: the 3515 left are not offered as a window.
    c.enqueue(stream(7, 0, 5 * 65495));
    c.output();
    stack.flush();
    expect(s.rcvQueued).toBe(3 * 65495);
    expect(c.sndNxt).toBe(c.sndUna);
    expect(c.sndWnd).toBeLessThan(65495);
    // Reading a little (below a segment of room) sends no window update.
    const segsOut = s.segsOut;
    s.readInto(new Uint8Array(1000), false);
    stack.flush();
    expect(s.segsOut).toBe(segsOut);
    // Reading a segment's worth more (less than two segments or half the buffer) opens the
    // window to twice what was left of it: the update goes, and the held data flows again
    // (nothing else would tell the sender, whose reader may now wait for that data).
    s.readInto(new Uint8Array(70_000), false);
    stack.flush();
    expect(s.segsOut).toBeGreaterThan(segsOut);
    expect(s.rcvQueued).toBe(3 * 65495 - 71_000 + 65495);
  });
});
