// TCP_INFO's congestion window against Linux (issue 8): fixture tcp_cwnd.c — a
// request/response exchange does not grow it with every ACK, a bulk transfer grows it within
// sane bounds (the window grows only while the sender uses it, congestion.ts).
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('cwnd stays bounded for request/response, grows sanely for bulk',
    () => expectSameAsNative([fixture('tcp_cwnd')], platform, 120_000), 180_000);
});
