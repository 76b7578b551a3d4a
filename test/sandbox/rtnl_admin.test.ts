// rtnetlink address and route changes (issue 8): RTM_NEWADDR / RTM_DELADDR (IPv4, IPv6) and
// RTM_NEWROUTE / RTM_DELROUTE (IPv4) change the sandbox's own stack for its root, as `ip addr
// add` and `ip route add` ask, with Linux's errnos and EPERM for an unprivileged process
// (fixture rtnl_admin.c). Natively in a network namespace whose eth0 is wired as the
// sandbox's (no DAD, so a new IPv6 address is usable at once, as in the sandbox).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runSandbox, skipBecause } from '../helpers/run';
import { NO_NETNS, haveNetns, runInNetns } from '../helpers/netns';

const BUSYBOX = '/usr/bin/busybox';
/** busybox ip changing and showing the interface (its index and veth peer name aside). */
const IP_SCRIPT = [
  `B=${BUSYBOX}`,
  '$B ip addr add 10.0.2.99/24 dev eth0 && $B ip addr add 192.168.5.1/24 brd + dev eth0 && $B ip route add 198.51.100.0/24 via 10.0.2.2',
  "$B ip -4 addr show dev eth0 | sed 's/^[0-9]*: eth0[^:]*:/N: eth0:/'",
  '$B ip -4 route',
  '$B ip addr del 10.0.2.99/24 dev eth0 && $B ip addr del 192.168.5.1/24 dev eth0 && $B ip route del 198.51.100.0/24 && $B ip -4 route',
  '$B ip addr add 10.0.2.15/24 dev eth0; echo "again: $?"; $B ip route add 203.0.113.0/24 via 192.0.2.1; echo "unreachable: $?"',
].join('\n');
const ETH0 = 'ip link add eth0 type veth peer name veth1 && ip link set eth0 mtu 65535 && sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.eth0.accept_dad=0 && ip addr add 10.0.2.15/24 brd + dev eth0 && ip addr add fd00::15/64 dev eth0 nodad && ip link set eth0 up && ip link set veth1 up && ip route add default via 10.0.2.2 && ip -6 route add default via fd00::2';

describe.each(platforms)('%s', (platform) => {
  it.skipIf(skipBecause(!haveNetns, NO_NETNS))(
    'ip addr add/del (v4, v6) and ip route add/del over rtnetlink: effects on bind and routing, EEXIST/EADDRNOTAVAIL/ESRCH/ENODEV/EINVAL/ENETUNREACH/ENOENT, EPERM for nobody',
    async () => {
      const argv = [fixture('rtnl_admin')];
      const n = await runInNetns(argv, ETH0);
      expect(n.code, describeResult(n)).toBe(0);
      const r = await runSandbox(argv, { platform, timeoutMs: 60_000 });
      expect(r.stdout, describeResult(r)).toBe(n.stdout);
      expect(r.code, describeResult(r)).toBe(n.code);
    }, 90_000);

  it.skipIf(skipBecause(!haveNetns, NO_NETNS) || skipBecause(!existsSync(BUSYBOX), `no ${BUSYBOX}`))(
    'busybox ip addr/route add and del print what they print natively (secondary, brd, route order, RTNETLINK errors)',
    async () => {
      const argv = ['/bin/sh', '-c', IP_SCRIPT];
      const n = await runInNetns(argv, ETH0);
      const r = await runSandbox(argv, { platform, timeoutMs: 60_000 });
      expect(r.stdout + r.stderr, describeResult(r)).toBe(n.stdout + n.stderr);
      expect(r.code, describeResult(r)).toBe(n.code);
    }, 90_000);
});
