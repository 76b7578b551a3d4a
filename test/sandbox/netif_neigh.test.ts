// RTM_GETNEIGH (issue 8): after the sandbox talked to its gateway over IPv4 and IPv6, `ip neigh`
// lists the ARP and neighbour-discovery entries the stack resolved, in the format busybox
// prints for a Linux host ("ADDR dev IF lladdr MAC used 0/0/0 probes N STATE"); with
// --network=none there are none.
import { describe, expect, it } from 'vitest';
import { busybox, describeResult, haveBusybox, platforms, runSandbox, skipBecause } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it.skipIf(skipBecause(!haveBusybox, `${busybox} is absent`))('ip neigh after pinging the gateway (v4 and v6), per family, and none without eth0', async () => {
    const script = `${busybox} ping -c1 10.0.2.2 >/dev/null; ${busybox} ping -c1 fd00::2 >/dev/null; ${busybox} ip neigh; echo --; ${busybox} ip -4 neigh; echo --; ${busybox} ip -6 neigh`;
    const r = await runSandbox(['/bin/sh', '-c', script], { platform, timeoutMs: 60_000 });
    expect(r.code, describeResult(r)).toBe(0);
    const [all, v4, v6] = r.stdout.split('--\n');
    const gw4 = '10.0.2.2 dev eth0 lladdr 52:55:0a:00:02:02 used 0/0/0 probes 0 REACHABLE';
    const gw6 = 'fd00::2 dev eth0 lladdr 52:55:0a:00:02:02 used 0/0/0 probes 0 REACHABLE';
    expect(all.split('\n')).toEqual(expect.arrayContaining([gw4, gw6]));
    expect(v4).toBe(`${gw4}\n`);
    expect(v6).toContain(gw6);
    expect(v6).not.toContain('10.0.2.2');
    const none = await runSandbox([busybox, 'ip', 'neigh'], { platform, timeoutMs: 60_000, extraArgs: ['--network=none'] });
    expect(none.code, describeResult(none)).toBe(0);
    expect(none.stdout).toBe('');
  }, 90_000);
});
