// TCP_CONGESTION and net.ipv4.tcp_congestion_control against Linux (issue 8): fixture
// tcp_congestion.c — the name rules of both, ENOENT and EINVAL, a listener's algorithm
// passed to what it accepts, bulk transfers under CUBIC and Reno. The fixture writes the
// sysctl, so the native side runs in a network namespace of the test's own.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runSandbox, skipBecause } from '../helpers/run';
import { NO_NETNS, haveNetns, runInNetns } from '../helpers/netns';

describe.each(platforms)('%s', (platform) => {
  it.skipIf(skipBecause(!haveNetns, NO_NETNS))('TCP_CONGESTION and the sysctl as Linux', async () => {
    const n = await runInNetns([fixture('tcp_congestion')]);
    expect(n.code, describeResult(n)).toBe(0);
    const r = await runSandbox([fixture('tcp_congestion')], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(n.stdout);
    expect(r.code).toBe(n.code);
  }, 90_000);
});
