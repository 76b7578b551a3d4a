// Urgent data driven by packets (issue 8): the pointer a sender puts in its segments (and
// drops once the urgent byte is acknowledged), a pointer that arrives before its byte
// (NOTYET until a later segment brings it), and pointers a peer must not be able to use to
// rewrite what was already received.
import { describe, expect, it } from 'vitest';
import { Stack } from '../../../ts/tcpip/stack';
import { TH_URG } from '../../../ts/tcpip/header/tcp';
import { URG_NOTYET, URG_VALID } from '../../../ts/tcpip/tcp/urgent';
import { client, listener } from './endpoints';

describe('urgent data', () => {
  it('the sender marks the last byte written; the receiver keeps it aside and sees the mark', () => {
    const stack = new Stack();
    const l = listener(stack, 7400);
    const c = client(stack, 7400);
    const s = l.acceptQueue.shift()!;
    let signals = 0;
    s.urg.sigurg = () => { signals++; };
    c.nodelay = true;
    c.enqueue(new TextEncoder().encode('abcX'));
    c.urg.mark();
    expect(c.urg.pointer(c.sndNxt)).toBe(4);
    c.output();
    stack.flush();
    expect(signals).toBe(1);
    expect(s.urg.data).toBe(URG_VALID | 'X'.charCodeAt(0));
    expect(s.urg.untilMark()).toBe(3);
    expect(new TextDecoder().decode(s.read(3, false))).toBe('abc');
    expect(s.urg.atMark()).toBe(true);
    expect(s.urg.take(false)).toBe('X'.charCodeAt(0));
    expect(s.urg.take(false)).toBe('inval');
    // Acknowledged: the sender leaves urgent mode.
    expect(c.urg.pointer(c.sndNxt)).toBeUndefined();
    expect(c.urg.sndUp).toBeNull();
  });

  it('a pointer ahead of the data waits (NOTYET) for the segment with its byte', () => {
    const stack = new Stack();
    const l = listener(stack, 7401);
    const c = client(stack, 7401);
    const s = l.acceptQueue.shift()!;
    c.nodelay = true;
    // Segments of 2 bytes: the pointer (to the 6th byte) rides on the first ones.
    c.sndMss = 2;
    c.enqueue(new TextEncoder().encode('abcdeU'));
    c.urg.mark();
    const seen: number[] = [];
    const input = s.input.bind(s);
    s.input = (seg, src, dst) => { seen.push(seg.flags & TH_URG ? seg.urgPtr : -1); input(seg, src, dst); if (seen.length === 1) expect(s.urg.data).toBe(URG_NOTYET); };
    c.output();
    stack.flush();
    expect(seen.slice(0, 3)).toEqual([6, 4, 2]);
    expect(s.urg.data).toBe(URG_VALID | 'U'.charCodeAt(0));
  });

  it('a pointer into data already received is not replayed, an older one does not move the mark', () => {
    const stack = new Stack();
    const l = listener(stack, 7402);
    const c = client(stack, 7402);
    const s = l.acceptQueue.shift()!;
    c.nodelay = true;
    c.enqueue(new TextEncoder().encode('0123456789'));
    c.output();
    stack.flush();
    let signals = 0;
    s.urg.sigurg = () => { signals++; };
    // A retransmission of old data whose pointer names byte 3, already received: ignored.
    const seg = (seq: number, urgPtr: number, data: string) => ({
      srcPort: c.lport, dstPort: 7402, seq: seq >>> 0, ack: c.rcvNxt, flags: TH_URG | 0x10, window: 1000, mss: -1, wscale: -1,
      sackOk: false, sack: [], urgPtr, data: new TextEncoder().encode(data),
    });
    s.urg.input(seg(s.rcvNxt - 10, 4, '0123456789'));
    expect([signals, s.urg.data]).toEqual([0, 0]);
    // A real mark, then an older pointer: the mark stays.
    s.urg.input(seg(s.rcvNxt, 3, 'ab'));
    expect([signals, s.urg.data, s.urg.seq]).toEqual([1, URG_NOTYET, (s.rcvNxt + 2) >>> 0]);
    s.urg.input(seg(s.rcvNxt, 1, 'ab'));
    expect([signals, s.urg.seq]).toEqual([1, (s.rcvNxt + 2) >>> 0]);
    // A zero pointer means nothing.
    s.urg.input(seg(s.rcvNxt, 0, 'ab'));
    expect(signals).toBe(1);
  });
});
