// The per-segment fast paths: tcpInput finds a connection through the stack's index by ports
// (no string key per segment), which must follow the conns map exactly — a connection that
// replaces another with the same 4-tuple takes its place, and the old one's unregistering
// leaves the new one found; and parseTCP shares one empty SACK list between segments that
// carry none, which a segment with SACK blocks must never write into.
import { describe, expect, it } from 'vitest';
import { Stack, TcpEndpoint } from '../../../ts/tcpip/stack';
import { V4_LOOPBACK } from '../../../ts/tcpip/addr';
import { TH_ACK, parseTCP, tcpHeaderLen, writeTCP, type TCPOut } from '../../../ts/tcpip/header/tcp';
import { client, listener } from './endpoints';

function tuple(stack: Stack, lport: number, rport: number): TcpEndpoint {
  const ep = new TcpEndpoint(stack, false);
  ep.local = V4_LOOPBACK;
  ep.remote = V4_LOOPBACK;
  ep.lport = lport;
  ep.rport = rport;
  return ep;
}

function segment(o: TCPOut): Uint8Array {
  const s = new Uint8Array(tcpHeaderLen(o) + 3);
  writeTCP(s, o, V4_LOOPBACK, V4_LOOPBACK);
  return s;
}

describe('tcp demultiplexing by ports', () => {
  it('finds what conns holds, through replacement and unregistering', () => {
    const stack = new Stack();
    const a = tuple(stack, 5000, 6000);
    stack.registerConn(a);
    expect(stack.findConn(V4_LOOPBACK, 5000, V4_LOOPBACK, 6000)).toBe(a);
    // A second endpoint with the same 4-tuple replaces the first (as a reopened TIME_WAIT).
    const b = tuple(stack, 5000, 6000);
    stack.registerConn(b);
    expect(stack.findConn(V4_LOOPBACK, 5000, V4_LOOPBACK, 6000)).toBe(b);
    stack.unregisterConn(a);
    expect(stack.findConn(V4_LOOPBACK, 5000, V4_LOOPBACK, 6000)).toBe(b);
    // The replaced endpoint gets no segment: b does.
    let got: TcpEndpoint | null = null;
    a.input = () => { got = a; };
    b.input = () => { got = b; };
    const o = { srcPort: 6000, dstPort: 5000, seq: 1, ack: 1, flags: TH_ACK, window: 100 };
    stack.deliver(ipv4(segment(o)), stack.lo, false);
    expect(got).toBe(b);
    stack.unregisterConn(b);
    got = null;
    stack.deliver(ipv4(segment(o)), stack.lo, false);
    expect(got).toBe(null);
    expect(stack.findConn(V4_LOOPBACK, 5000, V4_LOOPBACK, 6000)).toBeUndefined();
  });

  it('keeps connections that share ports apart by address', () => {
    const stack = new Stack();
    const l = listener(stack, 7600);
    const c1 = client(stack, 7600);
    const s1 = l.acceptQueue.shift()!;
    const other = new Uint8Array([127, 0, 0, 2]);
    const c2 = client(stack, 7600, (c) => { c.local = other; c.lport = c1.lport; });
    const s2 = l.acceptQueue.shift()!;
    expect(s1.state).toBe(s2.state);
    c1.enqueue(new Uint8Array([1]));
    c1.output();
    c2.enqueue(new Uint8Array([2, 2]));
    c2.output();
    stack.flush();
    expect(s1.rcvQueued).toBe(1);
    expect(s2.rcvQueued).toBe(2);
  });
});

describe('parseTCP SACK blocks', () => {
  it('a segment without SACK has none, also after one with blocks', () => {
    const plain = { srcPort: 1, dstPort: 2, seq: 3, ack: 4, flags: TH_ACK, window: 5 };
    const p0 = parseTCP(segment(plain), V4_LOOPBACK, V4_LOOPBACK)!;
    expect(p0.sack).toEqual([]);
    const withSack = parseTCP(segment({ ...plain, sack: [10, 20, 30, 40] }), V4_LOOPBACK, V4_LOOPBACK)!;
    expect(withSack.sack).toEqual([10, 20, 30, 40]);
    const p1 = parseTCP(segment(plain), V4_LOOPBACK, V4_LOOPBACK)!;
    expect(p1.sack).toEqual([]);
    expect(p0.sack).toEqual([]);
  });
});

/** An IPv4 packet around a TCP segment, 127.0.0.1 to itself (checksum verified: not offloaded). */
function ipv4(tcp: Uint8Array): Uint8Array {
  const p = new Uint8Array(20 + tcp.length);
  p.set(tcp, 20);
  const v = new DataView(p.buffer);
  p[0] = 0x45;
  v.setUint16(2, p.length);
  p[8] = 64;
  p[9] = 6;
  p.set(V4_LOOPBACK, 12);
  p.set(V4_LOOPBACK, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += v.getUint16(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  v.setUint16(10, ~sum & 0xffff);
  return p;
}
