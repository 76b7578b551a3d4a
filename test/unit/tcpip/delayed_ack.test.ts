// Delayed ACKs (delayed_ack.ts) driven with packets alone over one Stack's loopback: a
// request/response exchange makes the server hold the ACK of the next request for its
// answer, and a retransmission timeout that runs after that ACK was due (a sentry stalled
// past both: host timers run in no set order) sends the ACK first instead of taking a loss.
import { describe, expect, it } from 'vitest';
import { Stack } from '../../../ts/tcpip/stack';
import { client, listener } from './endpoints';

describe('delayed ACKs', () => {
  it('an exchange is two segments, and a timeout after the due ACK is no loss', () => {
    const stack = new Stack();
    const l = listener(stack, 7600);
    const c = client(stack, 7600);
    const s = l.acceptQueue.shift()!;
    const buf = new Uint8Array(4096);
    const exchange = (): void => {
      c.enqueue(new Uint8Array(80).fill(1));
      c.output();
      stack.flush();
      expect(s.readInto(buf, false)).toBe(80);
      s.enqueue(new Uint8Array(170).fill(2));
      s.output();
      stack.flush();
      expect(c.readInto(buf, false)).toBe(170);
      stack.flush();
    };
    exchange();
    expect(s.delack.pingpong).toBe(true);
    const segs = c.segsOut + s.segsOut;
    exchange();
    expect(c.segsOut + s.segsOut - segs).toBe(2);

    // A request whose ACK the server holds for an answer that does not come.
    c.enqueue(new Uint8Array(80).fill(3));
    c.output();
    stack.flush();
    expect(c.sndUna).not.toBe(c.sndMax);
    const cwnd = c.cc.cwnd;
    // The sentry was away for a second: the client's timer runs before the server's.
    const real = performance.now.bind(performance);
    performance.now = () => real() + 1000;
    try {
      (c as unknown as { onRetransmitTimer(): void }).onRetransmitTimer();
    } finally {
      performance.now = real;
    }
    expect(c.sndUna).toBe(c.sndMax);
    expect(c.totalRetrans).toBe(0);
    expect(c.cc.cwnd).toBe(cwnd);
    // The missed ACK ended the server's pingpong mode.
    expect(s.delack.pingpong).toBe(false);
    c.close();
    s.close();
    l.close();
    stack.flush();
  });
});
