// The congestion window grows only while the sender uses it (RFC 7661's idea, Linux's
// tcp_is_cwnd_limited/tcp_cwnd_validate), driven with packets alone over one Stack's loopback:
// a request/response sender that never fills the window keeps the initial window however many
// ACKs it gets; a bulk sender grows it, but in slow start to no more than twice what it had in
// flight; a window left unused for an RTO shrinks halfway towards what was used
// (tcp_cwnd_application_limited). The Reno arithmetic alone is checked too.
import { describe, expect, it } from 'vitest';
import { Stack } from '../../../ts/tcpip/stack';
import { CongestionControl, INIT_CWND } from '../../../ts/tcpip/tcp/congestion';
import { Reno } from '../../../ts/tcpip/tcp/cc_reno';
import { setTcpTimestamps } from '../../../ts/tcpip/tcp/timestamps';
import { tcpInfo } from '../../../ts/net/inet/tcp_info';
import { client, listener } from './endpoints';

function pair(port: number) {
  const stack = new Stack();
  setTcpTimestamps(stack, 0);
  const l = listener(stack, port);
  const c = client(stack, port);
  const s = l.acceptQueue.shift()!;
  return { stack, c, s };
}

const sink = new Uint8Array(1 << 20);

describe('congestion window validation', () => {
  it('a request/response sender keeps the initial window (TCP_INFO shows 10, as Linux)', () => {
    const { stack, c, s } = pair(7400);
    for (let i = 0; i < 2000; i++) {
      c.enqueue(new Uint8Array(300).fill(i & 0xff));
      c.output();
      stack.flush();
      expect(s.readInto(sink, false)).toBe(300);
      stack.flush();
    }
    expect(c.bytesAcked).toBe(600_000);
    expect(c.cc.cwnd).toBe(INIT_CWND);
    expect(new DataView(tcpInfo(c).buffer).getUint32(80, true)).toBe(INIT_CWND);
  });

  it('a bulk sender grows the window, in slow start to about twice what it had in flight', () => {
    const { stack, c, s } = pair(7401);
    let maxFlight = 0;
    // Every sending round, including those ACKs start inside the stack.
    const output = c.output.bind(c);
    c.output = () => { output(); maxFlight = Math.max(maxFlight, Math.ceil((c.sndNxt - c.sndUna) / c.sndMss)); };
    let sent = 0;
    const total = 64 << 20;
    let got = 0;
    for (let round = 0; got < total && round < 100_000; round++) {
      while (sent < total && c.sndSpace > 0) {
        const n = Math.min(c.sndSpace, 1 << 20, total - sent);
        c.enqueue(new Uint8Array(n));
        sent += n;
        c.output();
      }
      stack.flush();
      got += s.readInto(sink, false);
      stack.flush();
    }
    expect(got).toBe(total);
    expect(c.cc.cwnd).toBeGreaterThan(INIT_CWND);
    // Twice the flight, plus what one (stretch) ACK of the last round added; without the
    // check it would be INIT_CWND + every segment acknowledged (over 1000 here).
    expect(c.cc.cwnd).toBeLessThan(3 * maxFlight);
  });

  it('Reno: no growth while the window is not in use; an RTO of disuse halves it towards the use', () => {
    const cc = new CongestionControl(new Reno());
    // Fill the window: it grows.
    cc.validate(true, 10, 0, 10_000, 0, 200);
    cc.onAck(10);
    expect(cc.cwnd).toBe(20);
    // The next window of data: only 3 segments in flight, never limited by cwnd.
    cc.validate(false, 3, 10_000, 13_000, 10, 200);
    cc.validate(false, 3, 13_000, 16_000, 20, 200);
    expect(cc.cwndLimited).toBe(false);
    cc.onAck(3);
    expect(cc.cwnd).toBe(20);
    // An RTO later still unused: (20 + max(3, 10)) / 2.
    cc.validate(false, 3, 16_000, 19_000, 250, 200);
    expect(cc.cwnd).toBe(15);
    expect(cc.ssthresh).toBe(0x7fffffff);
  });
});
