// CUBIC and Reno driven with packets alone: two endpoints of one Stack over a simulated link
// (one-way delay, a bottleneck that spaces packets, chosen segments dropped) in vitest's fake
// time. The window after a loss is checked against RFC 9438's curve computed here in floating
// point (W(t) = C (t - K)^3 + W_max with C 0.4, beta 0.7), against the TCP-friendly estimate
// where Reno would be faster, and against fast convergence; HyStart ends slow start on a
// spread ACK train without a loss; a timeout forgets W_max; Reno still halves and adds one
// segment per round trip.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Stack, type TcpEndpoint } from '../../../ts/tcpip/stack';
import { IPPROTO_TCP, parseTCP, type TCPSegment } from '../../../ts/tcpip/header/tcp';
import { setTcpTimestamps } from '../../../ts/tcpip/tcp/timestamps';
import { CA_LOSS, INFINITE_SSTHRESH } from '../../../ts/tcpip/tcp/congestion';
import { Cubic } from '../../../ts/tcpip/tcp/cc_cubic';
import { tcpInfo } from '../../../ts/net/inet/tcp_info';
import { client, listener } from './endpoints';

const MSS = 1000;
const C = 0.4;
const BETA = 717 / 1024;

/** RFC 9438 §4.2: the window t seconds into an epoch after a loss from wMax. */
function wCubic(t: number, wMax: number): number {
  const k = Math.cbrt((wMax * (1 - BETA)) / C);
  return C * (t - k) ** 3 + wMax;
}

/** RFC 9438 §4.3: Reno's window with CUBIC's beta, t seconds into the epoch. */
function wEst(t: number, wMax: number, rtt: number): number {
  return wMax * BETA + ((3 * (1 - BETA)) / (1 + BETA)) * (t / rtt);
}

type Drop = (seg: TCPSegment) => boolean;

/** A path of one-way delay delayMs whose bottleneck sends a packet every gapMs. */
class Path {
  private q: { at: number; pkt: Uint8Array; off: boolean }[] = [];
  private free = 0;
  drop: Drop | null = null;
  private readonly send: (pkt: Uint8Array, offloaded?: boolean) => void;

  constructor(private readonly stack: Stack, private readonly delayMs: number, private readonly gapMs: number) {
    const link = stack.loopback;
    this.send = link.send.bind(link);
    link.send = (pkt: Uint8Array, offloaded = false): void => {
      if (pkt[0] >> 4 === 4 && pkt[9] === IPPROTO_TCP && this.drop) {
        const seg = parseTCP(pkt.subarray((pkt[0] & 15) * 4), pkt.subarray(12, 16), pkt.subarray(16, 20), !offloaded);
        if (seg && this.drop(seg)) return;
      }
      const now = performance.now();
      this.free = Math.max(this.free, now) + this.gapMs;
      this.q.push({ at: this.free + this.delayMs, pkt: pkt.slice(), off: offloaded });
    };
  }

  /** Move time to the next arrival and deliver it. */
  step(): void {
    if (this.q.length === 0) { vi.advanceTimersByTime(1); return; }
    let i = 0;
    for (let j = 1; j < this.q.length; j++) if (this.q[j].at < this.q[i].at) i = j;
    const p = this.q.splice(i, 1)[0];
    const now = performance.now();
    if (p.at > now) vi.advanceTimersByTime(p.at - now);
    this.send(p.pkt, p.off);
    this.stack.flush();
  }
}

const sink = new Uint8Array(1 << 20);
const chunk = new Uint8Array(64 << 10);

/** A bulk transfer from c to s over the path; each step keeps c's send buffer full and s's
 *  receive queue empty; `watch` runs after each arrival until it returns true. */
function bulk(path: Path, stack: Stack, c: TcpEndpoint, s: TcpEndpoint, watch: () => boolean, maxSteps = 400_000): void {
  for (let i = 0; i < maxSteps; i++) {
    while (c.sndSpace >= chunk.length) c.enqueue(chunk);
    c.output();
    stack.flush();
    path.step();
    while (s.readInto(sink, false) > 0);
    if (watch()) return;
  }
  throw new Error('the transfer did not get there');
}

function connection(algo: string, port: number, delayMs: number, gapMs: number, iss?: number) {
  const stack = new Stack();
  setTcpTimestamps(stack, 0);
  // A chosen initial sequence number (the stack's are random): HyStart's rounds are sequence
  // numbers, and once started from 0 instead of the connection's they were missed in one half.
  if (iss !== undefined) stack.newIss = () => iss;
  const path = new Path(stack, delayMs, gapMs);
  const l = listener(stack, port);
  const c = client(stack, port, (e) => { e.userMss = MSS; e.setCongestion(algo); });
  for (let i = 0; i < 10 && l.acceptQueue.length === 0; i++) path.step();
  const s = l.acceptQueue.shift()!;
  return { stack, path, c, s };
}

/** Drop the next data segment c sends once cond() holds; returns what the window was when
 *  the loss was found (the third duplicate ACK). */
function lossWhen(path: Path, c: TcpEndpoint, cond: () => boolean): { cwnd: number | null } {
  let armed = true;
  path.drop = (g) => {
    if (armed && g.srcPort === c.lport && g.data.length > 0 && cond()) { armed = false; return true; }
    return false;
  };
  const seen = { cwnd: null as number | null };
  const onDupAck = c.cc.onDupAck.bind(c.cc);
  c.cc.onDupAck = (flight, nxt) => {
    const before = c.cc.cwnd;
    const started = onDupAck(flight, nxt);
    if (started) seen.cwnd = before;
    return started;
  };
  return seen;
}

beforeEach(() => { vi.useFakeTimers(); });
afterEach(() => { vi.useRealTimers(); });

describe('CUBIC', () => {
  it('is the default; a loss cuts the window to 717/1024 and it then follows the cubic curve', () => {
    // RTT 100 ms: far enough from Reno's pace for the cubic region (RFC 9438 §4.2).
    const { stack, path, c, s } = connection('cubic', 7600, 50, 0.05);
    expect(c.cc.ops.name).toBe('cubic');
    const cubic = c.cc.ops as Cubic;
    const lost = lossWhen(path, c, () => c.cc.cwnd >= 60);
    bulk(path, stack, c, s, () => lost.cwnd !== null);
    const wMax = lost.cwnd!;
    expect(c.cc.ssthresh).toBe(Math.floor((wMax * 717) / 1024));
    expect(cubic.lastMaxCwnd).toBe(wMax);
    // The epoch begins with the first ACK after recovery.
    bulk(path, stack, c, s, () => cubic.epochStart !== 0);
    const epoch = performance.now();
    const rtt = cubic.delayMin / 1e6;
    expect(rtt).toBeGreaterThan(0.099);
    const k = Math.cbrt((wMax * (1 - BETA)) / C);
    let checked = 0;
    for (const at of [0.5, 1, 2, 3, k, k + 0.5, k + 1]) {
      bulk(path, stack, c, s, () => performance.now() - epoch >= at * 1000);
      const t = (performance.now() - epoch) / 1000;
      // The window is always in the cubic region here, and on the curve within a segment or
      // two (it moves once per ACK towards where the curve is one RTT on).
      expect(wCubic(t, wMax)).toBeGreaterThan(wEst(t, wMax, rtt));
      expect(Math.abs(c.cc.cwnd - wCubic(t, wMax)), `t ${t.toFixed(2)} s: cwnd ${c.cc.cwnd}, curve ${wCubic(t, wMax).toFixed(1)}`).toBeLessThanOrEqual(2);
      checked++;
    }
    expect(checked).toBe(7);
    const info = new DataView(tcpInfo(c).buffer);
    expect(info.getUint32(80, true)).toBe(c.cc.cwnd);
    expect(info.getUint32(76, true)).toBe(c.cc.ssthresh);
  }, 60_000);

  it('at a short RTT it grows as fast as Reno would (the TCP-friendly region)', () => {
    const { stack, path, c, s } = connection('cubic', 7601, 2, 0.01);
    const cubic = c.cc.ops as Cubic;
    const lost = lossWhen(path, c, () => c.cc.cwnd >= 60);
    bulk(path, stack, c, s, () => lost.cwnd !== null);
    const wMax = lost.cwnd!;
    bulk(path, stack, c, s, () => cubic.epochStart !== 0);
    const epoch = performance.now();
    const rtt = cubic.delayMin / 1e6;
    bulk(path, stack, c, s, () => performance.now() - epoch >= 1000);
    const t = (performance.now() - epoch) / 1000;
    // About a quarter second of round trips: Reno's line is far above the curve here.
    expect(wEst(t, wMax, rtt)).toBeGreaterThan(wCubic(t, wMax) + 20);
    const want = wEst(t, wMax, rtt);
    expect(Math.abs(c.cc.cwnd - want), `cwnd ${c.cc.cwnd}, Reno-friendly ${want.toFixed(1)}`).toBeLessThanOrEqual(Math.max(3, want * 0.05));
  }, 60_000);

  it('fast convergence: a loss below the last W_max remembers (1 + beta) / 2 of the window', () => {
    const { stack, path, c, s } = connection('cubic', 7602, 50, 0.05);
    const cubic = c.cc.ops as Cubic;
    const first = lossWhen(path, c, () => c.cc.cwnd >= 60);
    bulk(path, stack, c, s, () => first.cwnd !== null);
    const wMax = first.cwnd!;
    bulk(path, stack, c, s, () => cubic.epochStart !== 0);
    const second = lossWhen(path, c, () => true);
    bulk(path, stack, c, s, () => second.cwnd !== null);
    const w = second.cwnd!;
    expect(w).toBeLessThan(wMax);
    expect(cubic.lastMaxCwnd).toBe(Math.floor((w * (1024 + 717)) / 2048));
    expect(c.cc.ssthresh).toBe(Math.floor((w * 717) / 1024));
  }, 60_000);

  it.each([0x1000_0000, 0x9000_0000])('HyStart leaves slow start when one round\'s ACKs spread over half the least RTT (ISS %i)', (iss) => {
    // 1 ms per packet at the bottleneck, RTT about 20 ms: a round of more than 10 segments
    // takes longer than half the RTT to come back.
    const { stack, path, c, s } = connection('cubic', 7603, 10, 1, iss);
    const cubic = c.cc.ops as Cubic;
    bulk(path, stack, c, s, () => cubic.found, 20_000);
    expect(c.cc.ssthresh).toBe(c.cc.cwnd);
    expect(c.cc.cwnd).toBeGreaterThanOrEqual(16);
    expect(c.cc.cwnd).toBeLessThan(64);
    expect(c.totalRetrans).toBe(0);
    // Reno has no HyStart: on the same path it is still in slow start past that window.
    const r = connection('reno', 7604, 10, 1);
    bulk(r.path, r.stack, r.c, r.s, () => r.c.cc.cwnd >= 64, 20_000);
    expect(r.c.cc.ssthresh).toBe(INFINITE_SSTHRESH);
  }, 60_000);

  it('a retransmission timeout: ssthresh from the window, and W_max forgotten', () => {
    const { stack, path, c, s } = connection('cubic', 7605, 5, 0.01);
    const cubic = c.cc.ops as Cubic;
    bulk(path, stack, c, s, () => c.cc.cwnd >= 40);
    let w = 0;
    const onTimeout = c.cc.onTimeout.bind(c.cc);
    c.cc.onTimeout = (f) => { w = c.cc.cwnd; onTimeout(f); };
    // Everything from now on is lost until the timer fires.
    path.drop = (g) => g.srcPort === c.lport && c.cc.state !== CA_LOSS;
    bulk(path, stack, c, s, () => c.cc.state === CA_LOSS);
    expect(w).toBeGreaterThanOrEqual(40);
    expect(c.cc.cwnd).toBe(1);
    expect(c.cc.ssthresh).toBe(Math.max(Math.floor((w * 717) / 1024), 2));
    expect(cubic.lastMaxCwnd).toBe(0);
    expect(cubic.epochStart).toBe(0);
  }, 60_000);
});

describe('Reno', () => {
  it('halves what was in flight and then adds one segment per round trip', () => {
    const { stack, path, c, s } = connection('reno', 7606, 50, 0.05);
    expect(c.cc.ops.name).toBe('reno');
    let flight = 0;
    const lost = lossWhen(path, c, () => c.cc.cwnd >= 60);
    const onDupAck = c.cc.onDupAck;
    c.cc.onDupAck = (f, nxt) => { flight = f; return onDupAck(f, nxt); };
    bulk(path, stack, c, s, () => lost.cwnd !== null);
    expect(c.cc.ssthresh).toBe(Math.max(flight >> 1, 2));
    bulk(path, stack, c, s, () => c.cc.state === 0 && c.cc.cwnd === c.cc.ssthresh);
    const w0 = c.cc.cwnd;
    const t0 = performance.now();
    bulk(path, stack, c, s, () => performance.now() - t0 >= 2000);
    // Twenty round trips of 100 ms: twenty segments more, give or take one.
    expect(Math.abs(c.cc.cwnd - w0 - 20)).toBeLessThanOrEqual(1);
  }, 60_000);
});
