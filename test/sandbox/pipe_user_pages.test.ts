// pipe-user-pages-soft: an unprivileged user's pipes (and FIFOs) past 16384 pages get two
// pages and cannot grow, root's are not limited, closing pipes gives the pages back; compared
// with the native run of pipe_user_pages.c (which only reads the limits).
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('pipe pages are counted per user as natively', async () => {
    await expectSameAsNative([fixture('pipe_user_pages')], platform, 60_000);
  }, 120_000);
});
