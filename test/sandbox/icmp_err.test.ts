// ICMP errors reaching the sockets they concern, and IP_RECVERR / IPV6_RECVERR error queues
// (issue 8), differential against Linux (fixture icmp_err.c). Real port-unreachables and
// forged errors from a raw socket run natively on the host's loopback; what would change the
// host (path MTU reports land in its route cache, ping_group_range, an on-link neighbour that
// never answers ARP) runs natively in a network namespace of the test's own (unshare -n, as
// root), wired as the sandbox's eth0 is: 10.0.2.15/24 (fd00::15/64) on a veth whose peer stays
// silent.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';
import { NO_NETNS, haveNetns, runInNetns } from '../helpers/netns';

const SILENT_NEIGHBOUR = 'ip link add veth0 type veth peer name veth1 && ip addr add 10.0.2.15/24 dev veth0 && ip link set veth0 up && ip link set veth1 up';
const SILENT_NEIGHBOUR6 = 'ip link add veth0 type veth peer name veth1 && sysctl -qw net.ipv6.conf.veth0.accept_dad=0 && ip addr add fd00::15/64 dev veth0 nodad && ip link set veth0 up && ip link set veth1 up';

/** The sandbox's eth0 as a netns sees it: MTU 65535, default routes via 10.0.2.2 / fd00::2,
 *  and the gateway and resolver as permanent neighbours (no ARP: the peer stays silent). */
const ROUTED = 'ip link add veth0 type veth peer name veth1 && ip link set veth0 mtu 65535 && ip addr add 10.0.2.15/24 dev veth0 && sysctl -qw net.ipv6.conf.veth0.accept_dad=0 && ip addr add fd00::15/64 dev veth0 nodad && ip link set veth0 up && ip link set veth1 up && ip route add default via 10.0.2.2 && ip -6 route add default via fd00::2 && for a in 10.0.2.2 10.0.2.3 fd00::2 fd00::3; do ip neigh add $a lladdr 52:54:00:12:35:02 dev veth0 nud permanent; done && sysctl -qw net.ipv4.ping_group_range="0 2147483647"';

describe.each(platforms)('%s', (platform) => {
  const same = async (argv: string[], native: () => ReturnType<typeof runNative> = () => runNative(argv, { timeoutMs: 60_000 })): Promise<void> => {
    const n = await native();
    expect(n.code, describeResult(n)).toBe(0);
    const r = await runSandbox(argv, { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(n.stdout);
    expect(r.code, describeResult(r)).toBe(n.code);
  };

  it('UDP v4/v6 port unreachable: connected ECONNREFUSED; IP_RECVERR pending error, POLLERR, MSG_ERRQUEUE record (sock_extended_err, offender, name), EAGAIN when empty',
    () => same([fixture('icmp_err'), 'udp']), 90_000);

  it('forged ICMP/ICMPv6 errors: RECVERR queue order and regenerated errors, MSG_TRUNC/CTRUNC, off purges, soft host unreachable, time exceeded, parameter problem; wrong port, short quote, TCP seq out of window: no effect',
    () => same([fixture('icmp_err'), 'forged']), 90_000);

  it.skipIf(skipBecause(!haveNetns, NO_NETNS))(
    'path MTU reports for UDP: EMSGSIZE with the MTU in ee_info, none under IP_PMTUDISC_DONT (natively in a netns)',
    () => same([fixture('icmp_err'), 'pmtu'], () => runInNetns([fixture('icmp_err'), 'pmtu'])), 90_000);

  it.skipIf(skipBecause(!haveNetns, NO_NETNS))(
    'path MTU with the route: IP_MTU/IPV6_MTU (ENOTCONN unconnected), a report seen by every socket to that destination, minimums, *_MTU_DISCOVER values, EMSGSIZE under DO/PROBE, its local error in the UDP and ping error queues',
    () => {
      const argv = [fixture('icmp_err'), 'route', '10.0.2.2', '10.0.2.3', 'fd00::2', 'fd00::3'];
      return same(argv, () => runInNetns(argv, ROUTED));
    }, 90_000);

  it.skipIf(skipBecause(!haveNetns, NO_NETNS))(
    'ICMP rate-limit sysctls (icmp_ratelimit, icmp_ratemask, icmp_msgs_per_sec, icmp_msgs_burst, ipv6 icmp ratelimit): defaults, writes, EINVAL (natively in a netns)',
    () => same([fixture('icmp_ratelimit')], () => runInNetns([fixture('icmp_ratelimit')])), 90_000);

  it.skipIf(skipBecause(!haveNetns, NO_NETNS))(
    'ping socket with IP_RECVERR: an error quoting our echo request is queued; another identifier\'s is not (natively in a netns)',
    () => same([fixture('icmp_err'), 'ping'],
      () => runInNetns([fixture('icmp_err'), 'ping'], 'sysctl -qw net.ipv4.ping_group_range="0 2147483647"', 60_000)), 90_000);

  it.skipIf(skipBecause(!haveNetns, NO_NETNS))(
    'an on-link neighbour that never answers ARP: UDP error queue and connect get EHOSTUNREACH after ~3 s, offender ourselves',
    () => same([fixture('icmp_err'), 'arp', '10.0.2.77'],
      () => runInNetns([fixture('icmp_err'), 'arp', '10.0.2.77'], SILENT_NEIGHBOUR, 60_000)), 90_000);

  it.skipIf(skipBecause(!haveNetns, NO_NETNS))(
    'an on-link IPv6 neighbour that never answers neighbour discovery: ICMPv6 address unreachable, EHOSTUNREACH after ~3 s',
    () => same([fixture('icmp_err'), 'ndp', 'fd00::77'],
      () => runInNetns([fixture('icmp_err'), 'ndp', 'fd00::77'], SILENT_NEIGHBOUR6, 60_000)), 90_000);
});
