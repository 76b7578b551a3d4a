// The send window as the peer's ACKs set it (tcp_may_update_window) and the window scale we
// offer (tcp_select_initial_window), with packets alone.
import { describe, expect, it } from 'vitest';
import { Stack, type TcpEndpoint } from '../../../ts/tcpip/stack';
import { IPPROTO_TCP, TH_ACK } from '../../../ts/tcpip/header/tcp';
import { rcvWscaleFor } from '../../../ts/tcpip/tcp/endpoint';
import { client, listener } from './endpoints';

/** A connection whose loopback can hold back the packets `hold` picks. */
function pair(port: number, buf: number): { stack: Stack; c: TcpEndpoint; s: TcpEndpoint; held: Uint8Array[]; hold(on: boolean): void; release(): void } {
  const stack = new Stack();
  const link = stack.loopback;
  const send = link.send.bind(link);
  const held: Uint8Array[] = [];
  let holding = false;
  link.send = (pkt: Uint8Array, offloaded = false): void => {
    if (holding && pkt[9] === IPPROTO_TCP) { held.push(pkt.slice()); return; }
    send(pkt, offloaded);
  };
  const l = listener(stack, port);
  l.rcvBufSize = buf;
  l.userMss = 1460;
  const c = client(stack, port, (ep) => { ep.rcvBufSize = buf; ep.userMss = 1460; });
  const s = l.acceptQueue.shift()!;
  return {
    stack, c, s, held,
    hold: (on) => { holding = on; },
    release: () => { for (const p of held.splice(0)) send(p, true); stack.flush(); },
  };
}

describe('the send window', () => {
  it('an older ACK with the same numbers and a smaller window does not close it again', () => {
    const p = pair(7300, 65_536);
    const { stack, c, s } = p;
    // Fill the server's buffer: its ACK offers a closed window; hold that ACK back.
    p.hold(true);
    c.enqueue(new Uint8Array(65_536).fill(7));
    c.output();
    stack.flush();
    p.hold(false);
    p.release();
    expect(s.rcvQueued).toBe(65_536);
    expect(c.sndWnd).toBe(0);
    p.hold(true);
    // A second copy of that ACK (same seq, same ack, window 0) overtakes the update below.
    s.sendAck();
    const stale = p.held.splice(0);
    p.hold(false);
    // The reader takes everything: the window update opens the window.
    while (s.read(1 << 20, false).length > 0) stack.flush();
    stack.flush();
    const open = c.sndWnd;
    expect(open).toBeGreaterThan(0);
    const hdr = (stale[0][0] & 15) * 4;
    expect(stale[0][hdr + 13] & TH_ACK).toBe(TH_ACK);
    p.held.push(...stale);
    p.release();
    expect(c.sndWnd).toBe(open);
  });
});

describe('the window scale offered', () => {
  it('follows the receive buffer as Linux does: 0 for a small buffer, 7 for the default', () => {
    expect(rcvWscaleFor(4096)).toBe(0);
    expect(rcvWscaleFor(65_536)).toBe(1);
    expect(rcvWscaleFor(212_992)).toBe(2);
    expect(rcvWscaleFor(4 << 20)).toBe(7);
    expect(rcvWscaleFor(1 << 30)).toBe(14);
    const { c, s } = pair(7301, 4096);
    expect(c.rcvWscale).toBe(0);
    expect(s.rcvWscale).toBe(0);
    expect(c.wscaleOk && s.wscaleOk).toBe(true);
  });
});
