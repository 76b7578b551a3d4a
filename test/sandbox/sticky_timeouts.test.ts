// personality(STICKY_TIMEOUTS): select, pselect6 and ppoll leave the timeout they were given
// unwritten, compared with the native run of sticky_timeouts.c.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('timeouts are written back unless sticky, as natively', async () => {
    await expectSameAsNative([fixture('sticky_timeouts')], platform, 30_000);
  }, 60_000);
});
