// The TCP state machine driven with packets alone: endpoints of one Stack over its loopback
// link (no sockets, no tasks): handshake, data both ways with the receiver's window, FIN
// states, RST for a closed port, abort.
import { describe, expect, it } from 'vitest';
import { Stack } from '../../../ts/tcpip/stack';
import { TCPS } from '../../../ts/tcpip/tcp/states';
import { ECONNREFUSED, ECONNRESET } from '../../../ts/abi/linux/errno';
import { client, listener } from './endpoints';

describe('tcp endpoint', () => {
  it('handshake, data, window, graceful close', () => {
    const stack = new Stack();
    const l = listener(stack, 7000);
    const c = client(stack, 7000);
    expect(c.state).toBe(TCPS.ESTABLISHED);
    const s = l.acceptQueue.shift()!;
    expect(s.state).toBe(TCPS.ESTABLISHED);
    s.rcvBufSize = 100_000;
    const data = new Uint8Array(300_000).map((_, i) => i & 0xff);
    c.enqueue(data);
    c.output();
    stack.flush();
    // The receiver's buffer bounds what is in flight: one full segment fits, and the sender
    // keeps the rest of the window (less than half of it) for when it opens again, rather
    // than sending a small segment (silly window avoidance).
    expect(s.rcvQueued).toBe(c.sndMss);
    expect(c.sndNxt - c.sndUna).toBe(0);
    let got = 0;
    let ok = true;
    while (got < data.length) {
      const d = s.read(65536, false);
      for (let i = 0; i < d.length; i++) if (d[i] !== ((got + i) & 0xff)) ok = false;
      got += d.length;
      stack.flush();
      if (d.length === 0) break;
    }
    expect(got).toBe(data.length);
    expect(ok).toBe(true);
    c.close();
    stack.flush();
    expect(s.state).toBe(TCPS.CLOSE_WAIT);
    expect(c.state).toBe(TCPS.FIN_WAIT2);
    s.close();
    stack.flush();
    expect(c.state).toBe(TCPS.TIME_WAIT);
    expect(s.state).toBe(TCPS.CLOSE);
  });

  it('RST: closed port refuses, abort resets the peer', () => {
    const stack = new Stack();
    const c = client(stack, 7001);
    expect(c.state).toBe(TCPS.CLOSE);
    expect(c.err).toBe(ECONNREFUSED);
    const l = listener(stack, 7002);
    const d = client(stack, 7002);
    const peer = l.acceptQueue.shift()!;
    d.abort();
    stack.flush();
    expect(peer.err).toBe(ECONNRESET);
    expect(peer.state).toBe(TCPS.CLOSE);
  });
});
