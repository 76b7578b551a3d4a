// Raw IP sockets of protocols other than ICMP (issue 8) against Linux: creation and
// CAP_NET_RAW, the names and calls a socket without ports answers, copies of UDP datagrams and
// of a protocol nobody handles (IPv4 with its header), the bound address as a filter,
// IP_HDRINCL, IPv6's payload-only receive and IPV6_CHECKSUM, and their errnos; receive
// control messages; /proc/net/raw
// and raw6 (natively in a network namespace of the test's own, so only the fixture's sockets
// are listed).
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';
import { NO_NETNS, haveNetns, runInNetns } from '../helpers/netns';

describe.each(platforms)('%s', (platform) => {
  it('raw IP sockets send, receive and fail as natively', async () => {
    const native = await runNative([fixture('rawip')], { timeoutMs: 60_000 });
    expect(native.code).toBe(0);
    const r = await runSandbox([fixture('rawip')], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
  }, 90_000);

  it('forged IP_HDRINCL packets from a fixed seed are refused or taken as natively, to this host and to the NAT', async () => {
    // Natively the packets meant for the NAT's gateway go to another loopback address: what is
    // refused is decided before the route, so the counts must agree.
    const native = await runNative([fixture('rawip_fuzz'), '127.0.0.2'], { timeoutMs: 60_000 });
    expect(native.code).toBe(0);
    const r = await runSandbox([fixture('rawip_fuzz')], { platform, timeoutMs: 90_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
  }, 120_000);

  it('receive control messages on raw sockets (IP_PKTINFO, IP_RECVTTL/TOS, IPV6_RECVPKTINFO/HOPLIMIT/TCLASS) as natively', async () => {
    const native = await runNative([fixture('raw_cmsg')], { timeoutMs: 60_000 });
    expect(native.code).toBe(0);
    const r = await runSandbox([fixture('raw_cmsg')], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
  }, 90_000);

  it.skipIf(skipBecause(!haveNetns, NO_NETNS))('/proc/net/raw and raw6 list raw sockets as natively (connected, bound, queued, closed)', async () => {
    const native = await runInNetns([fixture('proc_net_raw')]);
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox([fixture('proc_net_raw')], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
  }, 90_000);
});
