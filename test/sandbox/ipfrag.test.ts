// IPv4 and IPv6 fragmentation and reassembly (issue 8) against Linux (fixture ipfrag.c): the
// program lowers lo's MTU to 1500 (SIOCSIFMTU), so natively it runs in a network namespace of
// its own (unshare -n, as root) with 10.0.2.15 on a veth as the sandbox's eth0 has it. UDP
// datagrams past the MTU arrive whole; EMSGSIZE under IP_PMTUDISC_DO/PROBE, IPV6_DONTFRAG and
// for IP_HDRINCL past the MTU; forged fragments (in order, reversed, duplicated, overlapping,
// teardrop, empty, past 65535 bytes, atomic); expiry with ICMP time exceeded; ipfrag sysctls.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runSandbox, skipBecause } from '../helpers/run';
import { NO_NETNS, haveNetns, runInNetns } from '../helpers/netns';

const HOST_ADDRESS = 'ip link add veth0 type veth peer name veth1 && ip addr add 10.0.2.15/24 dev veth0 && ip link set veth0 up && ip link set veth1 up';

describe.each(platforms)('%s', (platform) => {
  it.skipIf(skipBecause(!haveNetns, NO_NETNS))(
    'fragmentation out and reassembly in as natively: MTU, DONTFRAG, forged fragment streams, expiry, sysctls',
    async () => {
      const argv = [fixture('ipfrag'), '10.0.2.15'];
      const native = await runInNetns(argv, HOST_ADDRESS, 60_000);
      expect(native.code, describeResult(native)).toBe(0);
      const r = await runSandbox(argv, { platform, timeoutMs: 90_000 });
      expect(r.stdout, describeResult(r)).toBe(native.stdout);
      expect(r.code, describeResult(r)).toBe(0);
    }, 150_000);
});
