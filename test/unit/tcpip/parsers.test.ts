// Fuzz the packet parsers from a fixed seed: random bytes and mutated valid packets must
// parse to a result or to null (dropped), never throw; and the stack's input, fed the same
// garbage, must stay up.
import { describe, expect, it } from 'vitest';
import { parseIPv4, writeIPv4Header, IPV4_HEADER } from '../../../ts/tcpip/header/ipv4';
import { parseIPv6, writeIPv6Header, IPV6_HEADER } from '../../../ts/tcpip/header/ipv6';
import { parseTCP, writeTCP, tcpHeaderLen, TH_SYN, IPPROTO_TCP } from '../../../ts/tcpip/header/tcp';
import { parseUDP, writeUDP, IPPROTO_UDP } from '../../../ts/tcpip/header/udp';
import { parseICMP } from '../../../ts/tcpip/header/icmp';
import { Stack } from '../../../ts/tcpip/stack';
import { V4_LOOPBACK, V6_LOOPBACK } from '../../../ts/tcpip/addr';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0);
}

function validPackets(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const v6 of [false, true]) {
    const src = v6 ? V6_LOOPBACK : V4_LOOPBACK;
    const ipLen = v6 ? IPV6_HEADER : IPV4_HEADER;
    const o = { srcPort: 1234, dstPort: 80, seq: 1, ack: 0, flags: TH_SYN, window: 65535, mss: 65495, wscale: 7 };
    const t = new Uint8Array(ipLen + tcpHeaderLen(o) + 10);
    writeTCP(t.subarray(ipLen), o, src, src);
    if (v6) writeIPv6Header(t, src, src, IPPROTO_TCP, 64, 0); else writeIPv4Header(t, src, src, IPPROTO_TCP, 64, 0, 1);
    out.push(t);
    const u = new Uint8Array(ipLen + 8 + 20);
    writeUDP(u.subarray(ipLen), src, src, 5000, 53);
    if (v6) writeIPv6Header(u, src, src, IPPROTO_UDP, 64, 0); else writeIPv4Header(u, src, src, IPPROTO_UDP, 64, 0, 2);
    out.push(u);
  }
  return out;
}

describe('tcpip packet parsers', () => {
  it('valid packets parse', () => {
    const [t4, u4, t6, u6] = validPackets();
    const ip4 = parseIPv4(t4);
    expect(ip4).not.toBeNull();
    const seg = parseTCP(ip4!.payload, ip4!.src, ip4!.dst);
    expect(seg?.mss).toBe(65495);
    expect(seg?.wscale).toBe(7);
    const ip6 = parseIPv6(u6);
    expect(parseUDP(ip6!.payload, ip6!.src, ip6!.dst)?.dstPort).toBe(53);
    expect(parseIPv6(t6)).not.toBeNull();
    expect(parseIPv4(u4)).not.toBeNull();
  });

  it('random and mutated packets never throw', () => {
    const next = rng(0x7c9);
    const valid = validPackets();
    const stack = new Stack();
    let parsed = 0;
    for (let i = 0; i < 20000; i++) {
      let p: Uint8Array;
      if (i % 2 === 0) {
        p = new Uint8Array(next() % 120);
        for (let j = 0; j < p.length; j++) p[j] = next() & 0xff;
        if (p.length > 0 && next() & 1) p[0] = (next() & 1) ? 0x45 : 0x60;
      } else {
        p = valid[next() % valid.length].slice(0, undefined);
        const flips = 1 + (next() % 4);
        for (let k = 0; k < flips; k++) p[next() % p.length] = next() & 0xff;
        if (next() % 4 === 0) p = p.subarray(0, next() % p.length);
      }
      const a = new Uint8Array(4);
      for (const f of [parseIPv4, parseIPv6]) {
        const ip = f(p);
        if (ip) {
          parsed++;
          parseTCP(ip.payload, ip.src, ip.dst);
          parseUDP(ip.payload, ip.src, ip.dst);
          parseICMP(ip.payload, null);
          parseICMP(ip.payload, { src: ip.src, dst: ip.dst });
        }
      }
      parseTCP(p, a, a);
      parseUDP(p, a, a);
      parseICMP(p, null);
      expect(() => stack.deliver(p)).not.toThrow();
    }
    expect(parsed).toBeGreaterThan(0);
  });
});
