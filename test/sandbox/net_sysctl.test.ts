// The stack's sysctls and SNMP counters (issue 8) against Linux (fixture net_sysctl_snmp.c),
// natively in a network namespace of the test's own so the host's values stay as they are
// and the MIB starts fresh as the sandbox's: ip_local_port_range writes and the ephemeral
// ports they bound, tcp_sack honoured, tcp_recovery, ip_forward, ipv6 auto_flowlabels and
// ip_nonlocal_bind with their bounds, Tcp and Udp counters.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runSandbox, skipBecause } from '../helpers/run';
import { NO_NETNS, haveNetns, runInNetns } from '../helpers/netns';

describe.each(platforms)('%s', (platform) => {
  it.skipIf(skipBecause(!haveNetns, NO_NETNS))('network sysctl writes take effect in the sandbox\'s stack; snmp counters move as natively', async () => {
    const native = await runInNetns([fixture('net_sysctl_snmp')]);
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox([fixture('net_sysctl_snmp')], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
  }, 90_000);
});
