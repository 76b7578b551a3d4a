// Pipe reads and writes that copy straight between application memory and the pipe's pages
// (kernel/pipe_user.ts), compared with the native run of fixture pipe_copy.c: faults part way
// through a buffer (only what Linux counts is consumed or written), iovec gathers and
// scatters, and a two-process transfer with a checksum.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('pipe copies fault, gather and scatter as on Linux', async () => {
    await expectSameAsNative([fixture('pipe_copy')], platform, 60_000);
  });
});
