// futex_waitv compared with the native run of futex_waitv.c.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('futex_waitv behaves as natively', async () => {
    await expectSameAsNative([fixture('futex_waitv')], platform, 60_000);
  }, 120_000);
});
