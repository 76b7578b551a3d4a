// TCP timestamps (RFC 7323, issue 8) against Linux: negotiation as net.ipv4.tcp_timestamps
// says, TCPI_OPT_TIMESTAMPS on both ends, the sysctl's range. The fixture writes the sysctl,
// so the native side runs in a network namespace of the test's own.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runSandbox, skipBecause } from '../helpers/run';
import { NO_NETNS, haveNetns, runInNetns } from '../helpers/netns';

describe.each(platforms)('%s', (platform) => {
  it.skipIf(skipBecause(!haveNetns, NO_NETNS))('timestamps negotiated per tcp_timestamps, shown in TCP_INFO, the sysctl a u8', async () => {
    const n = await runInNetns([fixture('tcp_timestamps')]);
    expect(n.code, describeResult(n)).toBe(0);
    const r = await runSandbox([fixture('tcp_timestamps')], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(n.stdout);
    expect(r.code).toBe(n.code);
  }, 90_000);
});
