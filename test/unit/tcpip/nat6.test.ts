// The NAT's IPv6 policy (issue 8): where a flow from the sandbox to an IPv6 destination may
// go on the host — the gateway fd00::2 is the host's ::1, the resolver fd00::3 answers port 53
// only, other unicast addresses are themselves — and what is refused, including a fixed-seed
// sweep of random addresses that may never yield a special host address.
import { describe, expect, it } from 'vitest';
import { natTarget } from '../../../ts/net/nat/policy';

const v6 = (s: string): Uint8Array => {
  const [h, t = ''] = s.split('::');
  const g = (x: string): number[] => (x ? x.split(':').map((y) => parseInt(y, 16)) : []);
  const hh = g(h);
  const tt = g(t);
  const all = [...hh, ...new Array<number>(8 - hh.length - tt.length).fill(0), ...tt];
  const a = new Uint8Array(16);
  all.forEach((x, i) => { a[2 * i] = x >> 8; a[2 * i + 1] = x & 0xff; });
  return a;
};

const dns = { host: '127.0.0.53', port: 53, family: 4 as const };

describe('NAT policy, IPv6', () => {
  it('special addresses', () => {
    expect(natTarget({ dns }, v6('fd00::2'), 8080)).toEqual({ host: '::1', port: 8080, family: 6 });
    expect(natTarget({ dns }, v6('fd00::3'), 53)).toEqual(dns);
    expect(natTarget({ dns }, v6('fd00::3'), 80)).toBeNull();
    expect(natTarget({ dns: null }, v6('fd00::3'), 53)).toBeNull();
    expect(natTarget({ dns }, v6('2001:db8::1'), 443)).toEqual({ host: '2001:db8:0:0:0:0:0:1', port: 443, family: 6 });
    expect(natTarget({ dns }, v6('fd12::1'), 443)?.family).toBe(6);
    for (const bad of ['::', '::1', '::ffff:127.0.0.1'.replace('127.0.0.1', '7f00:1'), '::7f00:1', 'fe80::1', 'febf::1', 'ff02::1',
      'fd00::15', 'fd00::99', 'fd00::ffff:1']) {
      expect([bad, natTarget({ dns }, v6(bad), 80)]).toEqual([bad, null]);
    }
    expect(natTarget({ dns }, v6('2001:db8::1'), 0)).toBeNull();
  });

  it('random addresses never reach the host\'s loopback or a special address (seed 0x6a7)', () => {
    let seed = 0x6a7;
    const rnd = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
    for (let i = 0; i < 20_000; i++) {
      const a = new Uint8Array(16).map(() => rnd() & 0xff);
      // Bias toward the interesting prefixes.
      const k = rnd() % 5;
      if (k === 0) a.fill(0, 0, 12);
      if (k === 1) { a[0] = 0xfd; a[1] = 0; a.fill(0, 2, 8); }
      if (k === 2) { a[0] = 0xfe; a[1] = 0x80 | (rnd() & 0x3f); }
      const t = natTarget({ dns }, a, 1 + (rnd() % 65535));
      if (!t) continue;
      const isGateway = a[0] === 0xfd && a.subarray(1, 15).every((b) => b === 0) && a[15] === 2;
      if (t.host === '::1') expect(isGateway).toBe(true);
      if (t.host === dns.host) expect(a[15]).toBe(3);
      expect(t.host.startsWith('fe8') || t.host.startsWith('ff') || t.host === '0:0:0:0:0:0:0:1').toBe(false);
    }
  });
});
