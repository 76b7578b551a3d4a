// A connection reopened while its server holds it in TIME_WAIT, against Linux (issue 8):
// fixture tcp_twreuse.c, v4 and v6 (time_wait.ts; before, the SYN was ignored for the whole
// 60 s wait).
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('a client reconnecting from the same port reopens the TIME_WAIT connection at once',
    () => expectSameAsNative([fixture('tcp_twreuse')], platform, 60_000), 90_000);
});
