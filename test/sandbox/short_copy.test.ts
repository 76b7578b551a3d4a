// sendfile and splice into a non-blocking socket that takes part of a chunk: the file offset
// moves by what was sent and a pipe keeps the rest (Go's os TestLargeCopyViaNetwork lost
// 128 KiB of 10 MiB this way): short_copy.c compared with the native run. And which inputs
// sendfile takes (Go's io.Copy from a pipe into TCP hung on a sendfile that should be EINVAL).
import { describe, it } from 'vitest';
import { expectSameAsNative, expectSameAsNativeInFreshDir, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('no byte lost or sent twice when the socket takes part of a copy', async () => {
    await expectSameAsNativeInFreshDir('short_copy', 'short-copy-', platform, 120_000);
  }, 240_000);

  it('sendfile takes only a seekable input into a socket (a pipe is EINVAL, as natively)', async () => {
    await expectSameAsNative([fixture('sendfile_kinds')], platform);
  });
});
