// TCP urgent data (issue 8) against Linux: fixture tcp_urgent.c over loopback v4 and v6 —
// send/recv(MSG_OOB) and their EINVAL/EAGAIN/ENOTCONN/EPIPE rules, the read stopping at the
// mark, SIOCATMARK, FIONREAD up to the mark, SO_OOBINLINE, POLLPRI, SIGURG to the owner.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('urgent data: MSG_OOB, SIOCATMARK, SO_OOBINLINE, POLLPRI, SIGURG, FIONREAD, peek, overtaken mark',
    () => expectSameAsNative([fixture('tcp_urgent')], platform, 60_000), 90_000);
});
