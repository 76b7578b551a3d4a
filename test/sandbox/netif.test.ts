// Interfaces as programs see them (issue 8): AF_NETLINK/NETLINK_ROUTE, getifaddrs and
// if_nameindex, the SIOCGIF* ioctls, busybox ip/ifconfig and python's if_nameindex. The host
// has other interfaces than the sandbox, so the fixture prints the loopback's facts in full
// and nothing about the rest; the real programs' output is compared on the loopback's lines.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectSameAsCurrentKernel, hostKernelBefore, type LineEdit } from '../helpers/native_kernel';
import { busybox, describeResult, expectSameAsNative, fixture, haveBusybox, platforms, runNative, runSandbox, skipBecause, TIME_SCALE } from '../helpers/run';

const python = '/usr/bin/python3';

/** The block of `ip addr`/`ip link`/`ifconfig` output that belongs to lo. */
function loBlock(out: string): string {
  const lines = out.split('\n');
  const res: string[] = [];
  let inLo = false;
  for (const l of lines) {
    if (/^\S/.test(l)) inLo = /^(\d+: )?lo[: ]/.test(l);
    if (inLo) res.push(l);
  }
  return res.join('\n').trimEnd();
}

/** Linux 6.10 ("rtnetlink: do not depend on RTNL for IFLA_QDISC output") moved IFLA_QDISC
 *  of an RTM_NEWLINK from after IFLA_CARRIER (so, of the attributes the fixture prints, right
 *  after IFLA_MTU) to after the stats; the sandbox lays it out as a current kernel. The fixture
 *  prints lo's link twice (the dump and the GETLINK by index). */
const QDISC_6_10: LineEdit[] = skipBecause(hostKernelBefore(6, 10),
  'host kernel predates 6.10: IFLA_QDISC comes right after IFLA_MTU there, the sandbox\'s order (after IFLA_STATS) is checked against those lines instead')
  ? [{ old: /^(  IFLA_MTU .*\n)(  IFLA_QDISC .*\n)((?:  IFLA_(?:ADDRESS|BROADCAST|STATS64|STATS) .*\n)+)/m, now: '$1$3$2', times: 2 }] : [];

/** Counters /proc/net/snmp and netstat name that a current Linux has and an older one lacks,
 *  each with the release that added it (as far as pinned here): 6.3 Ip's OutTransmits, 6.2
 *  TcpExt's TCPPLBRehash, 6.7 the TCPAO* five, 6.15 TSEcrRejected and PAWSOldAck, 6.16
 *  PAWSTimewait, 6.17 BeyondWindow. On an older host the native header is given them where a
 *  current kernel puts them (the fixture checks that each line's values match its names). */
function counters(release: [number, number], names: string, old: RegExp, now: string): LineEdit[] {
  return skipBecause(hostKernelBefore(...release),
    `host kernel predates ${release.join('.')}: its /proc/net counters lack ${names}, which the sandbox's (as a current kernel) are checked with instead`)
    ? [{ old, now }] : [];
}
const PROC_NET_COUNTERS: LineEdit[] = [
  ...counters([6, 3], 'Ip OutTransmits', /^(Ip: Forwarding .* FragCreates)\n/m, '$1 OutTransmits\n'),
  ...counters([6, 2], 'TcpExt TCPPLBRehash', /^(TcpExt: .* TCPMigrateReqFailure)\n/m, '$1 TCPPLBRehash\n'),
  ...counters([6, 7], 'TcpExt TCPAO*', /^(TcpExt: .* TCPPLBRehash)\n/m, '$1 TCPAORequired TCPAOBad TCPAOKeyNotFound TCPAOGood TCPAODroppedIcmps\n'),
  ...counters([6, 15], 'TcpExt TSEcrRejected PAWSOldAck', /^(TcpExt: .* PAWSEstab)( DelayedACKs )/m, '$1 TSEcrRejected PAWSOldAck$2'),
  ...counters([6, 16], 'TcpExt PAWSTimewait', /^(TcpExt: .* PAWSOldAck)( DelayedACKs )/m, '$1 PAWSTimewait$2'),
  ...counters([6, 17], 'TcpExt BeyondWindow', /^(TcpExt: .* PAWSEstab)( TSEcrRejected )/m, '$1 BeyondWindow$2'),
];

describe.each(platforms)('%s', (platform) => {
  it('netlink: names, autobind, errnos, GETLINK/GETADDR/GETROUTE dumps, acks and errors as Linux',
    () => expectSameAsCurrentKernel([fixture('netif'), 'netlink'], platform, QDISC_6_10, 60_000), 90_000 * TIME_SCALE);
  it('getifaddrs, if_nameindex, if_nametoindex, if_indextoname',
    () => expectSameAsNative([fixture('netif'), 'ifaddrs'], platform, 60_000), 90_000 * TIME_SCALE);

  it('SIOCGIF* on inet, inet6, unix and netlink sockets: values, ENODEV, ENOTTY, SIOCGIFCONF sizes, EFAULT',
    () => expectSameAsNative([fixture('netif'), 'ioctl'], platform, 60_000), 90_000 * TIME_SCALE);
  it('changes by an unprivileged caller: EPERM from netlink (NLMSG_ERROR) and from SIOCSIF*',
    () => expectSameAsNative([fixture('netif'), 'perm'], platform, 60_000), 90_000 * TIME_SCALE);

  it.skipIf(skipBecause(!haveBusybox, `${busybox} is absent`))('busybox ip addr / ip link / ip route show table local / ip route get 127.0.0.1: lo as natively', async () => {
    for (const args of [['ip', 'addr'], ['ip', 'link'], ['ip', '-o', 'addr'], ['ip', '-6', 'addr']]) {
      const native = await runNative([busybox, ...args]);
      const r = await runSandbox([busybox, ...args], { platform, timeoutMs: 60_000 });
      expect(r.code, describeResult(r)).toBe(0);
      // lo's qdisc/state/group words differ between busybox builds only by what the kernel sends; compare the block.
      expect(loBlock(r.stdout).replace(/RX:[^]*$/m, ''), describeResult(r)).toBe(loBlock(native.stdout).replace(/RX:[^]*$/m, ''));
    }
    const native = await runNative([busybox, 'ip', 'route', 'show', 'table', 'local']);
    const r = await runSandbox([busybox, 'ip', 'route', 'show', 'table', 'local'], { platform, timeoutMs: 60_000 });
    const lo = (s: string): string => s.split('\n').filter((l) => / dev lo /.test(l)).join('\n');
    expect(lo(r.stdout), describeResult(r)).toBe(lo(native.stdout));
    expect(lo(r.stdout)).toContain('local 127.0.0.1 dev lo');
    const get = async (f: typeof runNative): Promise<string> => (await f([busybox, 'ip', 'route', 'get', '127.0.0.1'], { platform, timeoutMs: 60_000 })).stdout;
    expect(await get(runSandbox)).toBe(await get(runNative));
  }, 120_000 * TIME_SCALE);

  it('/proc/net tables list the program\'s own sockets in Linux\'s layouts; dev, if_inet6, ipv6_route, snmp, netstat, sockstat, /proc/sys/net',
    () => expectSameAsCurrentKernel([fixture('netif'), 'proc'], platform, PROC_NET_COUNTERS, 60_000), 90_000 * TIME_SCALE);

  it.skipIf(skipBecause(!haveBusybox, `${busybox} is absent`))('busybox ifconfig lo as natively (counters aside)', async () => {
    const strip = (s: string): string => loBlock(s).split('\n').filter((l) => !/packets|bytes|collisions/.test(l)).join('\n');
    const native = await runNative([busybox, 'ifconfig', 'lo']);
    const r = await runSandbox([busybox, 'ifconfig', 'lo'], { platform, timeoutMs: 60_000 });
    expect(strip(r.stdout), describeResult(r)).toBe(strip(native.stdout));
    expect(strip(r.stdout)).toContain('inet addr:127.0.0.1  Mask:255.0.0.0');
  }, 90_000 * TIME_SCALE);

  it.skipIf(skipBecause(!haveBusybox || !existsSync(python), 'busybox or python3 is absent'))('busybox netstat -tuln / -xl see listeners the sandbox opened', async () => {
    const script = [
      'import socket, subprocess',
      't = socket.socket(); t.bind(("127.0.0.1", 4321)); t.listen()',
      't6 = socket.socket(socket.AF_INET6); t6.bind(("::1", 4322)); t6.listen()',
      'u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 4323))',
      'x = socket.socket(socket.AF_UNIX); x.bind("\\0netif-test"); x.listen()',
      `subprocess.run(["${busybox}", "netstat", "-tuln"]); subprocess.run(["${busybox}", "netstat", "-xl"])`,
    ].join('\n');
    const r = await runSandbox([python, '-c', script], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toMatch(/^tcp +0 +0 127\.0\.0\.1:4321 +0\.0\.0\.0:\* +LISTEN/m);
    expect(r.stdout).toMatch(/^tcp +0 +0 ::1:4322 +:::\* +LISTEN/m);
    expect(r.stdout).toMatch(/^udp +0 +0 127\.0\.0\.1:4323 +0\.0\.0\.0:\*/m);
    expect(r.stdout).toMatch(/^unix +2 +\[ ACC \] +STREAM +LISTENING +\d+ @netif-test$/m);
  }, 90_000 * TIME_SCALE);

  it.skipIf(skipBecause(!haveBusybox, `${busybox} is absent`))('eth0 of --network=sandbox in ip addr, ip route, ifconfig, /proc/net/route; absent with --network=none', async () => {
    const run = async (args: string[], extraArgs: string[] = []): Promise<string> => {
      const r = await runSandbox([busybox, ...args], { platform, timeoutMs: 60_000, extraArgs });
      expect(r.code, describeResult(r)).toBe(0);
      return r.stdout;
    };
    expect(await run(['ip', 'addr'])).toMatch(/^2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu \d+[^]*inet 10\.0\.2\.15\/24 brd 10\.0\.2\.255 scope global eth0[^]*inet6 fe80::[0-9a-f:]+\/64 scope link/m);
    const routes = await run(['ip', 'route']);
    expect(routes).toContain('10.0.2.0/24 dev eth0 scope link  src 10.0.2.15');
    expect(routes).toContain('default via 10.0.2.2 dev eth0');
    expect(await run(['ifconfig', 'eth0'])).toMatch(/inet addr:10\.0\.2\.15 +Bcast:10\.0\.2\.255 +Mask:255\.255\.255\.0/);
    expect(await run(['cat', '/proc/net/route'])).toMatch(/^eth0\t00000000\t0202000A\t0003\t/m);
    expect(await run(['ip', 'route', 'get', '8.8.8.8'])).toBe('8.8.8.8 via 10.0.2.2 dev eth0  src 10.0.2.15 \n');
    expect(await run(['ip', 'route', 'get', '10.0.2.15'])).toBe('local 10.0.2.15 dev lo  src 10.0.2.15 \n');
    const unreach = await runSandbox([busybox, 'ip', 'route', 'get', '8.8.8.8'], { platform, timeoutMs: 60_000, extraArgs: ['--network=none'] });
    expect(unreach.stderr, describeResult(unreach)).toContain('Network is unreachable');
    const none = await run(['ip', 'addr'], ['--network=none']);
    expect(none).toContain('1: lo:');
    expect(none).not.toContain('eth0');
  }, 120_000 * TIME_SCALE);

  it('raw ICMP sockets: errnos, echo through the stack with the IP header, ICMP_FILTER, EPERM unprivileged; ping_group_range gates ping sockets',
    () => expectSameAsNative([fixture('netif'), 'ping'], platform, 60_000), 90_000 * TIME_SCALE);

  it('ping sockets (SOCK_DGRAM IPPROTO_ICMP/ICMPV6): errnos, the identifier is the port, echo replies v4 and v6', async () => {
    // The host's ping_group_range may forbid them ("1 0" by default); the sandbox allows every group.
    const r = await runSandbox([fixture('netif'), 'pingdgram'], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe([
      'unconnected send: 89', 'short: 22', 'wrong type: 22', 'wrong family: 97', 'send: 32',
      'reply: n=32 type=0 code=0 id_is_port=1 seq=7 payload_ok=1 from=127.0.0.1 port=0', 'send6: 32', 'reply6: n=32 type=129 seq=9 payload_ok=1', '',
    ].join('\n'));
  }, 90_000 * TIME_SCALE);

  it.skipIf(skipBecause(!haveBusybox, `${busybox} is absent`))('busybox ping -c 1: 127.0.0.1 and ::1 as natively, eth0 and the gateway in the sandbox', async () => {
    const line = (s: string): string => (s.match(/^\d+ bytes from [^:]+: seq=0 ttl=\d+/m) ?? ['none'])[0];
    const native = await runNative([busybox, 'ping', '-c', '1', '127.0.0.1']);
    const r = await runSandbox([busybox, 'ping', '-c', '1', '127.0.0.1'], { platform, timeoutMs: 60_000 });
    expect(r.code, describeResult(r)).toBe(0);
    expect(line(r.stdout)).toBe(line(native.stdout));
    expect(line(r.stdout)).toBe('64 bytes from 127.0.0.1: seq=0 ttl=64');
    for (const dst of ['::1', '10.0.2.15', '10.0.2.2']) {
      const x = await runSandbox([busybox, 'ping', '-c', '1', dst], { platform, timeoutMs: 60_000 });
      expect(x.code, describeResult(x)).toBe(0);
      expect(x.stdout).toContain('1 packets transmitted, 1 packets received, 0% packet loss');
    }
  }, 120_000 * TIME_SCALE);

  it('TCP_INFO after a loopback transfer: SACK and window scaling negotiated, congestion state, cwnd, keep-alive options',
    () => expectSameAsNative([fixture('netif'), 'tcpinfo'], platform, 60_000), 90_000 * TIME_SCALE);

  it.skipIf(skipBecause(!existsSync(python), `${python} is absent`))('python3 socket.if_nameindex() and if_nametoindex', async () => {
    const r = await runSandbox([python, '-c', 'import socket; print(socket.if_nameindex()[0], socket.if_nametoindex("lo"), socket.if_indextoname(1))'],
      { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe("(1, 'lo') 1 lo\n");
  }, 90_000 * TIME_SCALE);
});
