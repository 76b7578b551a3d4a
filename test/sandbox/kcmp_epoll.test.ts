// kcmp(KCMP_EPOLL_TFD) compared with the native run of kcmp_epoll.c.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('KCMP_EPOLL_TFD behaves as natively', async () => {
    await expectSameAsNative([fixture('kcmp_epoll')], platform, 60_000);
  }, 120_000);
});
