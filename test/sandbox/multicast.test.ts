// UDP multicast (issue 8) against Linux: the IP_ and IPV6_MULTICAST_* options, joins and
// leaves with their errnos, source filters, which sockets a datagram to a group reaches on lo
// and on the sandbox's Ethernet interface (membership, IP_MULTICAST_ALL, IP_MULTICAST_LOOP,
// the bound address, sources), and /proc/net/igmp and igmp6 for lo.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('multicast options, joins, filters and delivery as natively', async (ctx) => {
    const native = await runNative([fixture('mcast')], { timeoutMs: 60_000 });
    expect(native.code).toBe(0);
    // The interface cases need a multicast interface with IPv4 besides lo, as the sandbox has.
    if (skipBecause(native.stdout.includes('no multicast interface'), 'this host has no multicast interface but lo: the native run cannot be compared')) {
      ctx.skip();
      return;
    }
    const r = await runSandbox([fixture('mcast')], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
  }, 90_000);
});
