// Delayed ACKs of an interactive exchange against Linux (issue 8's keep-alive loop): fixture
// tcp_delack.c — a request's ACK rides on its response (two segments per exchange, not four),
// TCP_QUICKACK reads 0 while the exchange is interactive, an unanswered request is still
// acknowledged by the timer (which leaves pingpong mode), and TCP_QUICKACK 0/1 set it.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('ACKs ride on the answer of a request/response exchange',
    () => expectSameAsNative([fixture('tcp_delack')], platform, 60_000), 120_000);
});
