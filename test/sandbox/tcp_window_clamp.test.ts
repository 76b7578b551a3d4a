// TCP_WINDOW_CLAMP's effect against Linux (issue 8): fixture tcp_window_clamp.c — a
// listener's clamp passes to what it accepts, picks the window scale at the SYN and bounds
// the first window the sender sees in TCP_INFO; SO_RCVBUF bounds the window without one.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('the clamp and SO_RCVBUF as the sender sees them',
    () => expectSameAsNative([fixture('tcp_window_clamp')], platform, 60_000), 120_000);
});
