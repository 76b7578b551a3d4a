// RFC 6069 (Linux tcp_ld_RTO_revert) driven by packets: a connection whose data is lost backs
// its retransmission timer off; an ICMP net or host unreachable quoting the first
// unacknowledged byte undoes one doubling each, and the timer then fires on the shorter
// timeout; a quote of another sequence number, another ICMP code, or one when nothing is being
// retransmitted changes nothing.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Stack, type TcpEndpoint } from '../../../ts/tcpip/stack';
import { V4_LOOPBACK, type IPAddr } from '../../../ts/tcpip/addr';
import { finish, sum16 } from '../../../ts/tcpip/checksum';
import { IPV4_HEADER, writeIPv4Header } from '../../../ts/tcpip/header/ipv4';
import { IPPROTO_TCP } from '../../../ts/tcpip/header/tcp';
import { client, listener } from './endpoints';

/** An ICMPv4 destination unreachable (code) about c's segment with sequence number seq. */
function unreach(c: TcpEndpoint, code: number, seq: number): Uint8Array {
  const inner = new Uint8Array(IPV4_HEADER + 8);
  const v = new DataView(inner.buffer);
  v.setUint16(IPV4_HEADER, c.lport);
  v.setUint16(IPV4_HEADER + 2, c.rport);
  v.setUint32(IPV4_HEADER + 4, seq >>> 0);
  writeIPv4Header(inner, c.local as IPAddr, c.remote as IPAddr, IPPROTO_TCP, 64, 0, 7);
  const p = new Uint8Array(IPV4_HEADER + 8 + inner.length);
  const m = p.subarray(IPV4_HEADER);
  m[0] = 3;
  m[1] = code;
  m.set(inner, 8);
  const sum = finish(sum16(m, 0, m.length));
  m[2] = sum >> 8;
  m[3] = sum & 0xff;
  writeIPv4Header(p, V4_LOOPBACK, V4_LOOPBACK, 1, 64, 0, 9);
  return p;
}

afterEach(() => { vi.useRealTimers(); });

describe('RFC 6069: ICMP unreachable reverts an RTO backoff', () => {
  it('each net/host unreachable about snd.una undoes one doubling; other quotes and codes do nothing', async () => {
    vi.useFakeTimers();
    const stack = new Stack();
    const l = listener(stack, 7700);
    const c = client(stack, 7700);
    expect(l.acceptQueue.length).toBe(1);
    // From now on the client's segments are lost.
    const send = stack.loopback.send.bind(stack.loopback);
    stack.loopback.send = (pkt: Uint8Array, ...rest: unknown[]): void => {
      if (pkt[9] === IPPROTO_TCP && new DataView(pkt.buffer, pkt.byteOffset).getUint16(IPV4_HEADER) === c.lport) return;
      (send as (...a: unknown[]) => void)(pkt, ...rest);
    };
    // Nothing in flight: nothing to revert.
    stack.deliver(unreach(c, 1, c.sndUna));
    expect(c.rtt.backoffs).toBe(0);
    c.enqueue(new Uint8Array(1000));
    c.output();
    stack.flush();
    const base = c.rtt.rto;
    await vi.advanceTimersByTimeAsync(base * 7 + 50);
    expect(c.rtt.backoffs).toBe(3);
    expect(c.rtt.rto).toBe(base * 8);
    // Another sequence number, or port unreachable: no.
    stack.deliver(unreach(c, 1, c.sndUna + 1));
    stack.deliver(unreach(c, 3, c.sndUna));
    expect(c.rtt.backoffs).toBe(3);
    // Host unreachable, then net unreachable: one step each.
    stack.deliver(unreach(c, 1, c.sndUna));
    expect([c.rtt.backoffs, c.rtt.rto]).toEqual([2, base * 4]);
    stack.deliver(unreach(c, 0, c.sndUna));
    expect([c.rtt.backoffs, c.rtt.rto]).toEqual([1, base * 2]);
    // The soft error is still recorded as before.
    expect(c.softErr).toBe(101 /* ENETUNREACH */);
    // The timer now fires on the reverted timeout: the next retransmission comes within 2 × base.
    const before = c.totalRetrans;
    await vi.advanceTimersByTimeAsync(base * 2 + 10);
    expect(c.totalRetrans).toBe(before + 1);
  });
});
