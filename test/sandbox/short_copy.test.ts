// sendfile and splice into a non-blocking socket that takes part of a chunk: the file offset
// moves by what was sent and a pipe keeps the rest (Go's os TestLargeCopyViaNetwork lost
// 128 KiB of 10 MiB this way): short_copy.c compared with the native run.
import { describe, it } from 'vitest';
import { expectSameAsNativeInFreshDir, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('no byte lost or sent twice when the socket takes part of a copy', async () => {
    await expectSameAsNativeInFreshDir('short_copy', 'short-copy-', platform, 120_000);
  }, 240_000);
});
