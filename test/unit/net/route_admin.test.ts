// rtnetlink admin requests against a stack (ts/net/netlink/route_admin.ts): forged and
// random messages from a fixed seed never throw, always get an errno Linux could give, and
// leave the tables sane (prefixes within the family's bits, every route on an interface that
// exists, every address on an interface once).
import { describe, expect, it } from 'vitest';
import { routeAdmin } from '../../../ts/net/netlink/route_admin';
import type { NlMsg } from '../../../ts/net/netlink/message';
import { Stack } from '../../../ts/tcpip/stack';
import { GUEST_ADDR, GUEST_MAC, SANDBOX_PREFIX } from '../../../ts/net/nat/policy';
import { EADDRNOTAVAIL, EEXIST, EINVAL, ENETUNREACH, ENODEV, ENOENT, ENOTSUP, ESRCH } from '../../../ts/abi/linux/errno';

function msg(type: number, flags: number, payload: Uint8Array): NlMsg {
  return { len: 16 + payload.length, type, flags, seq: 1, pid: 0, raw: new Uint8Array(16 + payload.length), payload };
}

describe('routeAdmin', () => {
  it('fuzz (seed 0xad417): errnos only, sane tables', () => {
    const stack = new Stack();
    const eth0 = stack.addEthernet('eth0', GUEST_MAC);
    stack.routeTable.addAddress(eth0.info, GUEST_ADDR, SANDBOX_PREFIX);
    let seed = 0xad417;
    const rnd = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };
    let done = 0;
    const allowed = new Set([0, EINVAL, ENODEV, EEXIST, EADDRNOTAVAIL, ESRCH, ENETUNREACH, ENOENT, ENOTSUP]);
    for (let i = 0; i < 20_000; i++) {
      const type = [20, 21, 24, 25][rnd(4)];
      const fixed = type < 24 ? 8 : 12;
      const p = new Uint8Array(rnd(4) === 0 ? rnd(fixed + 1) : fixed + rnd(48));
      for (let j = 0; j < p.length; j++) p[j] = rnd(256);
      if (p.length >= fixed && rnd(4) !== 0) {
        // Mostly well-formed: an IPv4 family, a prefix that fits, eth0 or lo, a unicast route
        // in the main table, and one 4-byte address attribute (IFA_ADDRESS/LOCAL, RTA_DST/GATEWAY).
        p[0] = rnd(8) === 0 ? 10 : 2;
        p[1] = rnd(34);
        if (type < 24) new DataView(p.buffer).setUint32(4, rnd(3), true);
        else { p[4] = 254; p[7] = 1; }
        if (p.length >= fixed + 8) {
          const v = new DataView(p.buffer);
          v.setUint16(fixed, 8, true);
          v.setUint16(fixed + 2, type < 24 ? 1 + rnd(2) : [1, 5][rnd(2)], true);
          p[fixed + 4] = 10; p[fixed + 5] = 0; p[fixed + 6] = 2; p[fixed + 7] = rnd(4) === 0 ? 2 : rnd(256);
        }
      }
      const err = routeAdmin(stack, msg(type, rnd(0x800) | (rnd(2) ? 0x400 : 0), p));
      expect(allowed.has(err ?? -1)).toBe(true);
      if (err === 0) done++;
    }
    // The seed reaches the changes themselves, not only the refusals.
    expect(done).toBeGreaterThan(50);
    const nics = new Set(stack.nics().map((n) => n.index));
    for (const r of stack.routes()) {
      expect(r.prefixLen).toBeLessThanOrEqual(r.dst.length * 8);
      expect(nics.has(r.ifindex)).toBe(true);
    }
    for (const n of stack.nics()) {
      const keys = n.addrs.map((a) => `${[...a.addr].join('.')}/${a.prefixLen}`);
      expect(new Set(keys).size).toBe(keys.length);
      for (const a of n.addrs) expect(a.prefixLen).toBeLessThanOrEqual(a.addr.length * 8);
    }
  });
});
