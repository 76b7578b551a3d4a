// UDP to broadcast addresses (issue 8) against Linux: EACCES without SO_BROADCAST on sendto and
// connect, allowed with it, a connected socket keeping its route, and no ICMP port unreachable
// about a broadcast datagram.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('broadcast needs SO_BROADCAST (EACCES), as natively',
    () => expectSameAsNative([fixture('udp_bcast')], platform, 60_000), 90_000);
});
