// TCP timestamps driven by packets (RFC 7323, issue 8): negotiation (both ends, or neither),
// the option on every segment with TSecr echoing ts_recent, SACK blocks fitting beside it,
// RTT samples from the echo, and PAWS dropping a segment with an old TSval — data included —
// while a reset still passes.
import { describe, expect, it } from 'vitest';
import { Stack, type TcpEndpoint } from '../../../ts/tcpip/stack';
import { TCPS } from '../../../ts/tcpip/tcp/states';
import { IPV4_HEADER, writeIPv4Header } from '../../../ts/tcpip/header/ipv4';
import { IPPROTO_TCP, TH_ACK, TH_PSH, parseTCP, tcpHeaderLen, writeTCP, type TCPOut, type TCPSegment } from '../../../ts/tcpip/header/tcp';
import { setTcpTimestamps } from '../../../ts/tcpip/tcp/timestamps';
import { V4_LOOPBACK } from '../../../ts/tcpip/addr';
import { client, listener } from './endpoints';

/** A stack whose loopback records every TCP segment. */
function tapped(): { stack: Stack; segs: TCPSegment[] } {
  const stack = new Stack();
  const segs: TCPSegment[] = [];
  const send = stack.loopback.send.bind(stack.loopback);
  stack.loopback.send = (pkt: Uint8Array, ...rest: unknown[]): void => {
    if (pkt[9] === IPPROTO_TCP) {
      const g = parseTCP(pkt.subarray(IPV4_HEADER), pkt.subarray(12, 16), pkt.subarray(16, 20), false);
      if (g) segs.push({ ...g, data: g.data.slice() });
    }
    (send as (...a: unknown[]) => void)(pkt, ...rest);
  };
  return { stack, segs };
}

/** Inject a segment to `to` from its peer's 4-tuple. */
function inject(stack: Stack, to: TcpEndpoint, o: Omit<TCPOut, 'srcPort' | 'dstPort'>, data = new Uint8Array(0)): void {
  const full = { srcPort: to.rport, dstPort: to.lport, ...o };
  const p = new Uint8Array(IPV4_HEADER + tcpHeaderLen(full) + data.length);
  p.set(data, IPV4_HEADER + tcpHeaderLen(full));
  writeTCP(p.subarray(IPV4_HEADER), full, V4_LOOPBACK, V4_LOOPBACK);
  writeIPv4Header(p, V4_LOOPBACK, V4_LOOPBACK, IPPROTO_TCP, 64, 0, 5);
  stack.deliver(p);
  stack.flush();
}

describe('tcp timestamps', () => {
  it('negotiated on the handshake; every later segment carries TSval and echoes ts_recent', () => {
    const { stack, segs } = tapped();
    const l = listener(stack, 7500);
    const c = client(stack, 7500);
    const s = l.acceptQueue.shift()!;
    expect([c.ts.ok, s.ts.ok, c.sackOk, s.sackOk]).toEqual([true, true, true, true]);
    const [syn, synAck] = segs;
    // SACK-permitted shares the timestamps option's 12 bytes: MSS 4 + 12 + window scale 4.
    expect([syn.sackOk, tcpHeaderLen({ srcPort: 0, dstPort: 0, seq: 0, ack: 0, flags: 0, window: 0, mss: 1, wscale: 7, sackOk: true, ts: [1, 0] })]).toEqual([true, 40]);
    expect(syn.tsVal).not.toBeNull();
    expect(syn.tsEcr).toBe(0);
    expect(synAck.tsEcr).toBe(syn.tsVal);
    c.enqueue(new Uint8Array(100));
    c.output();
    stack.flush();
    const data = segs.find((g) => g.data.length === 100)!;
    expect(data.tsEcr).toBe(synAck.tsVal);
    const ack = segs[segs.length - 1];
    expect(ack.tsEcr).toBe(data.tsVal);
    // The MSS leaves room for the option (12 bytes).
    expect(c.sndMss).toBe(stack.mssFor(false) - 12);
  });

  it('not used when either end has it off', () => {
    for (const side of ['client', 'listener']) {
      const a = new Stack();
      const l = listener(a, 7501);
      if (side === 'listener') setTcpTimestamps(a, 0);
      const c = client(a, 7501, () => { if (side === 'client') setTcpTimestamps(a, 0); });
      const s = l.acceptQueue.shift()!;
      expect([side, c.ts.ok, s.ts.ok, c.state]).toEqual([side, false, false, TCPS.ESTABLISHED]);
    }
  });

  it('PAWS: a segment with an old TSval is dropped (data too) and answered; a reset still passes', () => {
    const { stack } = tapped();
    const l = listener(stack, 7502);
    const c = client(stack, 7502);
    const s = l.acceptQueue.shift()!;
    const recent = s.ts.recent;
    inject(stack, s, { seq: s.rcvNxt, ack: s.sndNxt, flags: TH_ACK | TH_PSH, window: 1000, ts: [(recent - 1000) >>> 0, 0] }, new Uint8Array([1, 2, 3]));
    expect(s.rcvQueued).toBe(0);
    inject(stack, s, { seq: s.rcvNxt, ack: s.sndNxt, flags: TH_ACK | TH_PSH, window: 1000, ts: [(recent + 5) >>> 0, 0] }, new Uint8Array([1, 2, 3]));
    expect(s.rcvQueued).toBe(3);
    expect(s.ts.recent).toBe((recent + 5) >>> 0);
    expect(c.state).toBe(TCPS.ESTABLISHED);
  });

  it('SACK blocks fit beside the option (at most 3)', () => {
    const { stack, segs } = tapped();
    const l = listener(stack, 7503);
    const c = client(stack, 7503);
    const s = l.acceptQueue.shift()!;
    // Four separate out-of-order pieces at the server.
    for (let k = 0; k < 4; k++) {
      inject(stack, s, { seq: (s.rcvNxt + 100 + k * 20) >>> 0, ack: s.sndNxt, flags: TH_ACK, window: 1000, ts: [c.ts.now(), s.ts.now()] }, new Uint8Array(10));
    }
    const last = segs[segs.length - 1];
    expect(last.srcPort).toBe(s.lport);
    expect(last.sack.length).toBe(6);
    expect(last.tsVal).not.toBeNull();
  });

  it('an RTT sample from the echo when the timed segment was retransmitted', () => {
    const { stack } = tapped();
    const l = listener(stack, 7504);
    const c = client(stack, 7504);
    l.acceptQueue.shift();
    c.rtt.srtt = 0;
    c.rtt.rttvar = 0;
    c.enqueue(new Uint8Array(10));
    c.output();
    c.rtt.discard(); // as if retransmitted: Karn's rule leaves no timed sample
    stack.flush();
    expect(c.rtt.srtt).toBeGreaterThan(0);
    // Without timestamps the same leaves no sample.
    const b = tapped();
    setTcpTimestamps(b.stack, 0);
    const l2 = listener(b.stack, 7505);
    const c2 = client(b.stack, 7505);
    l2.acceptQueue.shift();
    c2.rtt.srtt = 0;
    c2.enqueue(new Uint8Array(10));
    c2.output();
    c2.rtt.discard();
    b.stack.flush();
    expect(c2.rtt.srtt).toBe(0);
  });
});
