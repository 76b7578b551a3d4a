// TCP_WINDOW_CLAMP's effect, segment by segment over one Stack's loopback: a listener's clamp
// passes to its connections, chooses the window scale their SYN-ACK offers, and bounds the
// window field of every segment they send while the reader leaves data queued (the receiver
// still queues more than the clamp: the window is the smaller of free space and clamp).
import { describe, expect, it } from 'vitest';
import { Stack } from '../../../ts/tcpip/stack';
import { TH_SYN, type TCPSegment } from '../../../ts/tcpip/header/tcp';
import { setTcpTimestamps } from '../../../ts/tcpip/tcp/timestamps';
import { client, listener, tapTcp } from './endpoints';

function capture(stack: Stack): TCPSegment[] {
  const seen: TCPSegment[] = [];
  tapTcp(stack, (seg) => { seen.push(seg); return true; });
  return seen;
}

describe('TCP_WINDOW_CLAMP', () => {
  it.each([[20_000, 0], [100_000, 1], [3_000, 0]])('clamp %i: scale %i at the SYN, no window offered above it', (clamp, wscale) => {
    const stack = new Stack();
    setTcpTimestamps(stack, 0);
    const seen = capture(stack);
    const l = listener(stack, 7700);
    l.windowClamp = clamp;
    const c = client(stack, 7700, (e) => { e.userMss = 1400; });
    const s = l.acceptQueue.shift()!;
    expect(s.windowClamp).toBe(clamp);
    const synAck = seen.find((g) => g.flags & TH_SYN && g.srcPort === 7700)!;
    expect(synAck.wscale).toBe(wscale);
    expect(synAck.window).toBeLessThanOrEqual(clamp);
    // The reader sleeps: the writer fills what the windows let through.
    for (let i = 0; i < 200; i++) {
      c.enqueue(new Uint8Array(16 << 10));
      c.output();
      stack.flush();
    }
    const fromServer = seen.filter((g) => g.srcPort === 7700 && !(g.flags & TH_SYN));
    expect(fromServer.length).toBeGreaterThan(10);
    const largest = Math.max(...fromServer.map((g) => g.window << wscale));
    expect(largest).toBeLessThanOrEqual(clamp);
    expect(largest).toBeGreaterThanOrEqual(clamp / 2);
    expect(s.rcvQueued).toBeGreaterThan(clamp);
  });
});
