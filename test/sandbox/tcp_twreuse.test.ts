// Connections reopened while held in TIME_WAIT, against Linux (issue 8): fixture
// tcp_twreuse.c, v4 and v6 — on the server's side a new SYN reopens it (time_wait.ts; before,
// the SYN was ignored for the whole 60 s wait); on the client's side a rebind needs
// SO_REUSEADDR on both sockets and the connect takes the TIME_WAIT's place.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('reconnecting from the same port: server-side TIME_WAIT reopened at once, client-side taken over with SO_REUSEADDR',
    () => expectSameAsNative([fixture('tcp_twreuse')], platform, 60_000), 90_000);
});
