// A FIN sent into a closed window (the echo deadlock CI hit: a client that sent all its data
// and its FIN while the server, blocked writing back, let its receive buffer fill). The
// server's window is 0, so the FIN takes no room; it and every ACK behind it must still reach
// the server, or the server never learns that the client read what it sent and both wait
// forever.
import { describe, expect, it } from 'vitest';
import { Stack } from '../../../ts/tcpip/stack';
import { TCPS } from '../../../ts/tcpip/tcp/states';
import type { TcpEndpoint } from '../../../ts/tcpip/tcp/endpoint';
import { client, listener } from './endpoints';

function drain(ep: TcpEndpoint, stack: Stack): number {
  let got = 0;
  for (;;) {
    const d = ep.read(1 << 20, false);
    stack.flush();
    if (d.length === 0) return got;
    got += d.length;
  }
}

/** A connection whose server takes `buf` bytes before its window closes. */
function pair(port: number, buf: number): { stack: Stack; c: TcpEndpoint; s: TcpEndpoint } {
  const stack = new Stack();
  const l = listener(stack, port);
  l.rcvBufSize = buf;
  l.sndBufSize = buf;
  const c = client(stack, port, (ep) => { ep.rcvBufSize = buf; ep.sndBufSize = buf; });
  const s = l.acceptQueue.shift()!;
  return { stack, c, s };
}

describe('a FIN into a closed window', () => {
  it('does not hide the ACKs behind it: an echo whose server stopped reading completes', () => {
    const { stack, c, s } = pair(7100, 20_000);
    c.enqueue(new Uint8Array(20_000).fill(1));
    c.output();
    stack.flush();
    expect(s.rcvQueued).toBe(20_000);
    c.shutdownSend();
    stack.flush();
    // The server echoes more than the client's buffer holds until the client reads.
    const echo = 100_000;
    let queued = 0;
    let got = 0;
    for (let round = 0; round < 200 && got < echo; round++) {
      const k = Math.min(s.sndSpace, echo - queued);
      if (k > 0) { s.enqueue(new Uint8Array(k).fill(2)); queued += k; }
      s.output();
      stack.flush();
      got += drain(c, stack);
    }
    expect(got).toBe(echo);
    expect(s.sndUna).toBe(s.sndNxt);
    // The server reads what it held, and the FIN is behind it.
    expect(drain(s, stack)).toBe(20_000);
    expect(s.finReceived).toBe(true);
    expect(s.state).toBe(TCPS.CLOSE_WAIT);
  });

  it('a bare FIN at rcv.nxt is taken with the window closed; data past a closed window is not', () => {
    const { stack, c, s } = pair(7101, 20_000);
    c.enqueue(new Uint8Array(30_000).fill(3));
    c.output();
    stack.flush();
    expect(s.rcvQueued).toBe(20_000);
    expect(c.sndQueued).toBe(10_000);
    // Reading opens the window, and the rest follows.
    expect(drain(s, stack)).toBe(30_000);
    // Fill the window it offers again, then a FIN with nothing queued behind it.
    const wnd = c.sndWnd;
    expect(wnd).toBeGreaterThan(10_000);
    c.enqueue(new Uint8Array(wnd).fill(4));
    c.output();
    stack.flush();
    expect(c.sndQueued).toBe(0);
    c.shutdownSend();
    stack.flush();
    expect(s.finReceived).toBe(true);
    expect(c.state).toBe(TCPS.FIN_WAIT2);
    expect(drain(s, stack)).toBe(wnd);
  });
});
