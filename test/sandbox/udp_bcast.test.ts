// UDP to broadcast addresses (issue 8) against Linux: EACCES without SO_BROADCAST on sendto and
// connect, allowed with it, a connected socket keeping its route, and no ICMP port unreachable
// about a broadcast datagram.
import { describe, expect, it } from 'vitest';
import { asCurrentKernel, inQemuGuest, type LineEdit } from '../helpers/native_kernel';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

/** The QEMU guest has no interface but lo, so natively 255.255.255.255 has no route there
 *  (ENETUNREACH, EDESTADDRREQ); the sandbox has its own interface and answers as a host
 *  with a default route does. */
const NO_ROUTE: LineEdit[] = skipBecause(inQemuGuest,
  'the QEMU guest has only lo: natively 255.255.255.255 is unreachable there, the sandbox\'s line for a routed host is checked against that one instead')
  ? [{
      old: /^255\.255\.255\.255: sendto 101 connect 101; SO_BROADCAST 1: connect 101 send 89; off: send 89 sendto 101\n/m,
      now: '255.255.255.255: sendto 13 connect 13; SO_BROADCAST 1: connect 0 send 0; off: send 0 sendto 13\n',
    }] : [];

describe.each(platforms)('%s', (platform) => {
  it('broadcast needs SO_BROADCAST (EACCES), as natively', async () => {
    const native = await runNative([fixture('udp_bcast')], { timeoutMs: 60_000 });
    const r = await runSandbox([fixture('udp_bcast')], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(asCurrentKernel(native.stdout, NO_ROUTE));
    expect(r.code, describeResult(r)).toBe(native.code);
  }, 90_000);
});
