// UDP multicast (issue 8) against Linux: the IP_ and IPV6_MULTICAST_* options, joins and
// leaves with their errnos, source filters, which sockets a datagram to a group reaches on lo
// and on the sandbox's Ethernet interface (membership, IP_MULTICAST_ALL, IP_MULTICAST_LOOP,
// the bound address, sources), and /proc/net/igmp and igmp6 for lo; IP_MSFILTER and
// MCAST_MSFILTER (natively in a network namespace with an eth0 like the sandbox's).
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';
import { NO_NETNS, haveNetns, runInNetns } from '../helpers/netns';

/** An eth0 as the sandbox's (10.0.2.15, fd00::15) for the native side, in its own netns. */
const ETH0 = 'ip link add eth0 type veth peer name veth1 && ip addr add 10.0.2.15/24 dev eth0 && sysctl -qw net.ipv6.conf.eth0.accept_dad=0 && ip addr add fd00::15/64 dev eth0 nodad && ip link set eth0 up && ip link set veth1 up';

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

  it.skipIf(skipBecause(!haveNetns, NO_NETNS))('IP_MSFILTER and MCAST_MSFILTER: errnos, set and read back, leave, effect on delivery as natively', async () => {
    const native = await runInNetns([fixture('mcast_msfilter')], ETH0);
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox([fixture('mcast_msfilter')], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
  }, 90_000);
});
