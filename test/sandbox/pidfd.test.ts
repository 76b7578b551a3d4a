// pidfds: pidfd_open, poll for exit, waitid(P_PIDFD) (EAGAIN when non-blocking), signals,
// pidfd_getfd, CLONE_PIDFD through clone and clone3, compared with the native run.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('pidfds behave as natively', async () => {
    await expectSameAsNative([fixture('pidfd')], platform, 30_000);
  }, 60_000);
});
