// TIME_WAIT driven by packets (tcp_timewait_state_process): a client reconnecting from the
// same port reopens the connection its server holds in TIME_WAIT (an ISN past the old
// incarnation's; PAWS holds because timestamp offsets are per address pair), a forged SYN or
// RST with an old timestamp is rejected by PAWS, an in-window RST ends the wait; ISNs and
// timestamp offsets from keyed hashes (secure_seq.ts); then a fixed-seed fuzz of segments at a
// TIME_WAIT endpoint never reopens it with a stale timestamp nor throws.
import { describe, expect, it } from 'vitest';
import { Stack, TcpEndpoint } from '../../../ts/tcpip/stack';
import { TCPS } from '../../../ts/tcpip/tcp/states';
import { IPV4_HEADER, writeIPv4Header } from '../../../ts/tcpip/header/ipv4';
import { IPPROTO_TCP, TH_ACK, TH_FIN, TH_RST, TH_SYN, parseTCP, tcpHeaderLen, writeTCP, type TCPOut, type TCPSegment } from '../../../ts/tcpip/header/tcp';
import { setTcpTimestamps } from '../../../ts/tcpip/tcp/timestamps';
import { secureTcpSeq, secureTcpTsOff } from '../../../ts/tcpip/tcp/secure_seq';
import { V4_LOOPBACK } from '../../../ts/tcpip/addr';
import { listener } from './endpoints';

/** A stack whose loopback records every TCP segment; what a muted port sends is recorded and
 *  lost (the closed client's stack would answer it with a RST that ends the TIME_WAIT). */
function tapped(): { stack: Stack; segs: TCPSegment[]; mute: Set<number> } {
  const stack = new Stack();
  const segs: TCPSegment[] = [];
  const mute = new Set<number>();
  const send = stack.loopback.send.bind(stack.loopback);
  stack.loopback.send = (pkt: Uint8Array, ...rest: unknown[]): void => {
    if (pkt[9] === IPPROTO_TCP) {
      const g = parseTCP(pkt.subarray(IPV4_HEADER), pkt.subarray(12, 16), pkt.subarray(16, 20), false);
      if (g) segs.push({ ...g, data: g.data.slice() });
      if (g && mute.has(g.srcPort)) return;
    }
    (send as (...a: unknown[]) => void)(pkt, ...rest);
  };
  return { stack, segs, mute };
}

/** A client of 127.0.0.1:port from the fixed local port lport. */
function clientFrom(stack: Stack, lport: number, port: number): TcpEndpoint {
  const c = new TcpEndpoint(stack, false);
  const b = { v4: true, v6: false, addr: V4_LOOPBACK, reuseAddr: true, reusePort: false, uid: 0, listening: () => false };
  c.lport = stack.tcpPorts.reserve(lport, b, c);
  c.binding = b;
  c.local = V4_LOOPBACK;
  c.remote = V4_LOOPBACK;
  c.rport = port;
  stack.registerConn(c);
  c.connect();
  stack.flush();
  return c;
}

/** A segment to `to` from its peer's 4-tuple. */
function inject(stack: Stack, to: TcpEndpoint, o: Omit<TCPOut, 'srcPort' | 'dstPort'>): void {
  const full = { srcPort: to.rport, dstPort: to.lport, ...o };
  const p = new Uint8Array(IPV4_HEADER + tcpHeaderLen(full));
  writeTCP(p.subarray(IPV4_HEADER), full, V4_LOOPBACK, V4_LOOPBACK);
  writeIPv4Header(p, V4_LOOPBACK, V4_LOOPBACK, IPPROTO_TCP, 64, 0, 5);
  stack.deliver(p);
  stack.flush();
}

/** Server closes first: its end of the connection is left in TIME_WAIT. */
function serverInTimeWait(port: number, lport: number) {
  const { stack, segs, mute } = tapped();
  const l = listener(stack, port);
  const c = clientFrom(stack, lport, port);
  const s = l.acceptQueue.shift()!;
  s.close();
  stack.flush();
  c.close();
  stack.flush();
  expect([s.state, c.state]).toEqual([TCPS.TIME_WAIT, TCPS.CLOSE]);
  stack.tcpPorts.release(lport, c.binding!);
  return { stack, segs, l, s, mute };
}

describe('TIME_WAIT', () => {
  it('a new SYN from the same port reopens it, with an ISN past the old sequence space', () => {
    const { stack, l, s } = serverInTimeWait(7600, 41000);
    const oldSndNxt = s.sndNxt;
    const oldRecent = s.ts.recent;
    const c2 = clientFrom(stack, 41000, 7600);
    expect(c2.state).toBe(TCPS.ESTABLISHED);
    const s2 = l.acceptQueue.shift()!;
    expect(s2).toBeDefined();
    expect(s2.iss).toBe((oldSndNxt + 65537) >>> 0);
    expect(s.state).toBe(TCPS.CLOSE);
    // Same address pair: the same timestamp clock, so the new TSvals are not older.
    expect((s2.ts.recent - oldRecent) | 0).toBeGreaterThanOrEqual(0);
  });

  it('PAWS: a SYN or RST with a TSval older than ts_recent is rejected (answered with an ACK, or dropped)', () => {
    const { stack, segs, s, mute } = serverInTimeWait(7601, 41001);
    mute.add(s.lport);
    const recent = s.ts.recent;
    const n = segs.length;
    inject(stack, s, { seq: (s.rcvNxt + 100_000) >>> 0, ack: 0, flags: TH_SYN, window: 1000, ts: [(recent - 1000) >>> 0, 0] });
    expect(s.state).toBe(TCPS.TIME_WAIT);
    expect(segs.slice(n).map((g) => g.flags)).toEqual([TH_ACK]);
    inject(stack, s, { seq: s.rcvNxt, ack: s.sndNxt, flags: TH_RST | TH_ACK, window: 0, ts: [(recent - 1000) >>> 0, 0] });
    expect(s.state).toBe(TCPS.TIME_WAIT);
    // A SYN below rcv_nxt with no newer timestamp is not a new connection either.
    inject(stack, s, { seq: (s.rcvNxt - 10) >>> 0, ack: 0, flags: TH_SYN, window: 1000 });
    expect(s.state).toBe(TCPS.TIME_WAIT);
    // An in-window RST with a current timestamp ends it (tcp_rfc1337=0).
    inject(stack, s, { seq: s.rcvNxt, ack: s.sndNxt, flags: TH_RST | TH_ACK, window: 0, ts: [recent, 0] });
    expect(s.state).toBe(TCPS.CLOSE);
  });

  it('a retransmitted FIN is acknowledged again', () => {
    const { stack, segs, s, mute } = serverInTimeWait(7602, 41002);
    mute.add(s.lport);
    const n = segs.length;
    inject(stack, s, { seq: (s.rcvNxt - 1) >>> 0, ack: s.sndNxt, flags: TH_FIN | TH_ACK, window: 1000, ts: [s.ts.recent, 0] });
    expect(segs.slice(n).map((g) => [g.flags, g.ack])).toEqual([[TH_ACK, s.rcvNxt]]);
    expect(s.state).toBe(TCPS.TIME_WAIT);
  });

  it('ISNs and timestamp offsets come from keyed hashes: per 4-tuple and clock, per address pair', () => {
    const a = new Stack();
    const b = new Stack();
    const other = Uint8Array.of(10, 0, 0, 1);
    const i1 = secureTcpSeq(a, V4_LOOPBACK, 1, V4_LOOPBACK, 2, 1000);
    expect(secureTcpSeq(a, V4_LOOPBACK, 1, V4_LOOPBACK, 2, 1001)).toBe((i1 + 250) >>> 0);
    expect(secureTcpSeq(a, V4_LOOPBACK, 1, V4_LOOPBACK, 3, 1000)).not.toBe(i1);
    expect(secureTcpSeq(b, V4_LOOPBACK, 1, V4_LOOPBACK, 2, 1000)).not.toBe(i1);
    expect(secureTcpTsOff(a, V4_LOOPBACK, V4_LOOPBACK)).toBe(secureTcpTsOff(a, V4_LOOPBACK, V4_LOOPBACK));
    expect(secureTcpTsOff(a, V4_LOOPBACK, other)).not.toBe(secureTcpTsOff(a, V4_LOOPBACK, V4_LOOPBACK));
    expect(secureTcpTsOff(b, V4_LOOPBACK, V4_LOOPBACK)).not.toBe(secureTcpTsOff(a, V4_LOOPBACK, V4_LOOPBACK));
    // Two connections between the same addresses share the clock; with the sysctl at 2, no offset.
    const l = listener(a, 7603);
    const c1 = clientFrom(a, 41003, 7603);
    const c2 = clientFrom(a, 41004, 7603);
    expect(Math.abs(((c1.ts.now() - c2.ts.now()) | 0))).toBeLessThan(1000);
    expect(l.acceptQueue.length).toBe(2);
    setTcpTimestamps(b, 2);
    listener(b, 7604);
    const c3 = clientFrom(b, 41005, 7604);
    expect(Math.abs(((c3.ts.now() - Math.floor(performance.now())) | 0))).toBeLessThan(1000);
  });

  it('fuzz (seed 0x7a17): 5,000 segments at a TIME_WAIT endpoint; none with a stale TSval reopens it', () => {
    let x = 0x7a17;
    const rnd = (): number => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return x >>> 0; };
    const { stack, l, s, mute } = serverInTimeWait(7605, 41006);
    mute.add(s.lport);
    const recent = s.ts.recent;
    for (let i = 0; i < 5000; i++) {
      const flags = [TH_SYN, TH_RST, TH_ACK, TH_FIN | TH_ACK, TH_SYN | TH_ACK, TH_RST | TH_ACK][rnd() % 6];
      const stale = (recent - 2 - (rnd() % 100_000)) >>> 0;
      const seq = (s.rcvNxt + (rnd() % 2 ? rnd() % 1_000_000 : -(rnd() % 1000))) >>> 0;
      inject(stack, s, { seq, ack: rnd(), flags, window: rnd() & 0xffff, ts: [stale, rnd()] });
      expect(s.state).toBe(TCPS.TIME_WAIT);
    }
    expect(l.acceptQueue.length).toBe(0);
  });
});
