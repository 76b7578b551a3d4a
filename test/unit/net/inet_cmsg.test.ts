// UDP control messages on the sandbox's stack (ts/net/inet/inet_cmsg.ts). Sending: the
// values ip_cmsg_send / ip6_datagram_send_ctl take and the EINVAL/ENODEV they give, levels
// that do not apply skipped, and a fixed-seed fuzzer: a forged control buffer gets a
// SyscallError or a result whose fields are in range, never another exception. Receiving:
// Linux's order and sizes, and nothing asked for, nothing given.
import { describe, expect, it } from 'vitest';
import { udpRecvCmsgs, udpSendCmsgs } from '../../../ts/net/inet/inet_cmsg';
import { InetOpts } from '../../../ts/net/inet/inet_opts';
import { SockOpts } from '../../../ts/net/sockopt';
import { Stack } from '../../../ts/tcpip/stack';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { EINVAL, ENODEV } from '../../../ts/abi/linux/errno';
import type { Datagram } from '../../../ts/tcpip/udp/endpoint';

const V4 = new Uint8Array([127, 0, 0, 1]);
const V6 = new Uint8Array(16);
V6[15] = 1;

function cmsg(level: number, type: number, data: Uint8Array, lenAdjust = 0): Uint8Array {
  const b = new Uint8Array(16 + ((data.length + 7) & ~7));
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(16 + data.length + lenAdjust), true);
  v.setInt32(8, level, true);
  v.setInt32(12, type, true);
  b.set(data, 16);
  return b;
}
const int = (x: number): Uint8Array => new Uint8Array(new Int32Array([x]).buffer);
const errnoOf = (f: () => unknown): number => {
  try { f(); return 0; } catch (e) { if (e instanceof SyscallError) return e.errno; throw e; }
};

describe('udpSendCmsgs', () => {
  const stack = new Stack();
  it('IP_TTL 1..255, IP_TOS as an int or a byte, IP_PKTINFO source one of ours', () => {
    expect(udpSendCmsgs(stack, cmsg(0, 2, int(7)), V4).ttl).toBe(7);
    expect(errnoOf(() => udpSendCmsgs(stack, cmsg(0, 2, int(0)), V4))).toBe(EINVAL);
    expect(errnoOf(() => udpSendCmsgs(stack, cmsg(0, 2, Uint8Array.of(5)), V4))).toBe(EINVAL);
    expect(udpSendCmsgs(stack, cmsg(0, 1, Uint8Array.of(0x10)), V4).tos).toBe(0x10);
    expect(errnoOf(() => udpSendCmsgs(stack, cmsg(0, 1, int(300)), V4))).toBe(EINVAL);
    const pkt = new Uint8Array(12);
    pkt.set(V4, 4);
    expect([...udpSendCmsgs(stack, cmsg(0, 8, pkt), V4).src ?? []]).toEqual([...V4]);
    pkt.set([10, 9, 9, 9], 4);
    expect(errnoOf(() => udpSendCmsgs(stack, cmsg(0, 8, pkt), V4))).toBe(EINVAL);
    const bad = new Uint8Array(12);
    new DataView(bad.buffer).setInt32(0, 99, true);
    expect(errnoOf(() => udpSendCmsgs(stack, cmsg(0, 8, bad), V4))).toBe(ENODEV);
  });
  it('the destination decides the level: IPv6 messages to IPv4 and IP ones to IPv6 are skipped', () => {
    expect(udpSendCmsgs(stack, cmsg(41, 52, int(9)), V4)).toEqual({});
    expect(udpSendCmsgs(stack, cmsg(0, 2, int(9)), V6)).toEqual({});
    expect(udpSendCmsgs(stack, cmsg(41, 52, int(9)), V6).ttl).toBe(9);
    expect(udpSendCmsgs(stack, cmsg(41, 52, int(-1)), V6).ttl).toBeUndefined();
    expect(errnoOf(() => udpSendCmsgs(stack, cmsg(41, 67, int(-2)), V6))).toBe(EINVAL);
    expect(errnoOf(() => udpSendCmsgs(stack, cmsg(41, 99, int(1)), V6))).toBe(EINVAL);
  });
  it('fuzz (seed 0xc0ffee): a SyscallError or fields in range, nothing else', () => {
    let seed = 0xc0ffee;
    const rnd = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };
    const levels = [0, 41, 1, 17, 255];
    const types = [1, 2, 7, 8, 11, 50, 52, 62, 67, 52, 99];
    let refused = 0, taken = 0;
    for (let i = 0; i < 5000; i++) {
      const parts: Uint8Array[] = [];
      for (let n = rnd(3) + 1; n > 0; n--) {
        const data = new Uint8Array(rnd(24));
        for (let j = 0; j < data.length; j++) data[j] = rnd(256);
        parts.push(cmsg(levels[rnd(levels.length)], types[rnd(types.length)], data, rnd(4) === 0 ? rnd(64) - 32 : 0));
      }
      const buf = new Uint8Array(parts.reduce((a, p) => a + p.length, 0) + rnd(20));
      let at = 0;
      for (const p of parts) { buf.set(p, at); at += p.length; }
      const dst = rnd(2) === 0 ? V4 : V6;
      try {
        const r = udpSendCmsgs(stack, buf, dst);
        taken++;
        if (r.ttl !== undefined) expect(r.ttl >= 0 && r.ttl <= 255).toBe(true);
        if (r.tos !== undefined) expect(r.tos >= 0 && r.tos <= 255).toBe(true);
        if (r.src !== undefined) expect(stack.isLocalAddress(r.src.length === 16 && r.src[10] === 0xff ? r.src.subarray(12) : r.src)).toBe(true);
      } catch (e) {
        expect(e).toBeInstanceOf(SyscallError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
    expect(taken).toBeGreaterThan(0);
  });
});

describe('udpRecvCmsgs', () => {
  const d: Datagram = { data: new Uint8Array(3), from: V4, port: 9, to: V4, ifindex: 1, ttl: 64, tos: 0x10, stamp: 1n };
  it('nothing asked, nothing given; then the timestamp, IPV6_PKTINFO, IP_PKTINFO, IP_TTL, IP_TOS in that order', () => {
    const opts = new SockOpts();
    const inet = new InetOpts();
    expect(udpRecvCmsgs(opts, inet, true, d, 5n)).toEqual([]);
    opts.tstamp = { on: true, ns: false, neu: false };
    for (const k of ['ip8', 'ip12', 'ip13', 'ip649']) inet.plain.set(k, 1);
    const got = udpRecvCmsgs(opts, inet, true, d, 1_500_000_000n);
    expect(got.map((c) => `${c.level}/${c.type}/${c.data.length}`)).toEqual(['1/29/16', '41/50/20', '0/8/12', '0/2/4', '0/1/1']);
    expect([...got[0].data.subarray(0, 1)]).toEqual([1]);
  });
});
