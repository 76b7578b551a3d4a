// SO_BINDTODEVICE / SO_BINDTOIFINDEX (issue 8) against Linux (fixture bindtodevice.c): the
// option's errnos and read-back, the receive filters of UDP, TCP listeners and raw sockets,
// TCP connect's EHOSTUNREACH and the unprivileged rules. Natively in a network namespace of
// the test's own with an eth0 at 10.0.2.15, as the sandbox's.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runSandbox, skipBecause } from '../helpers/run';
import { NO_NETNS, haveNetns, runInNetns } from '../helpers/netns';

const ETH0 = 'ip link add eth0 type veth peer name veth1 && ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up && ip link set veth1 up';

describe.each(platforms)('%s', (platform) => {
  it.skipIf(skipBecause(!haveNetns, NO_NETNS))('SO_BINDTODEVICE and SO_BINDTOIFINDEX on UDP, TCP and raw sockets as natively', async () => {
    const native = await runInNetns([fixture('bindtodevice')], ETH0);
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox([fixture('bindtodevice')], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
  }, 90_000);
});
