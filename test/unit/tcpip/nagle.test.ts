// Nagle as Linux has it (tcp_nagle_check with Minshall's variant, tcp_minshall_check): a
// segment short of the MSS waits only while a short segment sent before it is unacknowledged,
// so a write's tail behind its full segments leaves at once (one round, one ACK for both over
// loopback) while a stream of small writes still coalesces. Driven with packets alone.
import { describe, expect, it } from 'vitest';
import { Stack } from '../../../ts/tcpip/stack';
import { setTcpTimestamps } from '../../../ts/tcpip/tcp/timestamps';
import { client, listener } from './endpoints';

function pair(port: number) {
  const stack = new Stack();
  setTcpTimestamps(stack, 0);
  const l = listener(stack, port);
  const c = client(stack, port);
  const s = l.acceptQueue.shift()!;
  // One byte from the server: its ACK-bearing segment gives the client the scaled window
  // (the SYN-ACK's is at most 64 KiB unscaled).
  s.enqueue(new Uint8Array(1));
  s.output();
  stack.flush();
  c.readInto(new Uint8Array(1), false);
  stack.flush();
  return { stack, c, s };
}

const inFlight = (c: { sndNxt: number; sndUna: number }): number => (c.sndNxt - c.sndUna) | 0;
const sink = new Uint8Array(1 << 20);

describe('Nagle (Minshall)', () => {
  it('a write of a full segment and a tail sends both at once; the ACK of the pair is one', () => {
    const { stack, c, s } = pair(7500);
    const mss = c.sndMss;
    c.enqueue(new Uint8Array(mss + 53).fill(1));
    c.output();
    // Classic Nagle would hold the 53 bytes until the full segment is acknowledged.
    expect(inFlight(c)).toBe(mss + 53);
    const acksBefore = s.segsOut;
    stack.flush();
    expect(s.segsOut - acksBefore).toBe(1);
    expect(inFlight(c)).toBe(0);
    expect(s.readInto(sink, false)).toBe(mss + 53);
  });

  it('a small write waits while a small segment is unacknowledged, and leaves with its ACK', () => {
    const { stack, c, s } = pair(7501);
    c.enqueue(new Uint8Array(100).fill(2));
    c.output();
    expect(inFlight(c)).toBe(100);
    c.enqueue(new Uint8Array(10).fill(3));
    c.output();
    c.enqueue(new Uint8Array(10).fill(4));
    c.output();
    // Held and coalesced behind the unacknowledged 100 bytes.
    expect(inFlight(c)).toBe(100);
    expect(c.sndQueued).toBe(120);
    stack.flush();
    expect(inFlight(c)).toBe(0);
    expect(c.sndQueued).toBe(0);
    const n = s.readInto(sink, false);
    expect(n).toBe(120);
    expect(Array.from(sink.subarray(98, 120))).toEqual([2, 2, ...Array(10).fill(3), ...Array(10).fill(4)]);
  });

  it('full segments in flight do not hold a small one; a small one among them does', () => {
    const { stack, c } = pair(7502);
    const mss = c.sndMss;
    c.enqueue(new Uint8Array(2 * mss));
    c.output();
    expect(inFlight(c)).toBe(2 * mss);
    c.enqueue(new Uint8Array(7));
    c.output();
    expect(inFlight(c)).toBe(2 * mss + 7);
    c.enqueue(new Uint8Array(7));
    c.output();
    expect(inFlight(c)).toBe(2 * mss + 7);
    stack.flush();
    expect(c.sndQueued).toBe(0);
  });

  it('TCP_NODELAY sends every small write; TCP_CORK holds even the first', () => {
    const nd = pair(7503);
    nd.c.nodelay = true;
    for (let i = 0; i < 3; i++) { nd.c.enqueue(new Uint8Array(5)); nd.c.output(); }
    expect(inFlight(nd.c)).toBe(15);
    const ck = pair(7504);
    ck.c.cork = true;
    ck.c.enqueue(new Uint8Array(5));
    ck.c.output();
    expect(inFlight(ck.c)).toBe(0);
    ck.c.cork = false;
    ck.c.output();
    expect(inFlight(ck.c)).toBe(5);
  });
});
