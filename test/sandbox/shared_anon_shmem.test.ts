// Shared anonymous memory as a shmem file (1 TiB MAP_NORESERVE, fork, mincore, mremap shrink
// and regrow, SIGBUS past the file, MADV_REMOVE, /dev/zero, the aio ring's name), compared
// with the native run of shared_anon_shmem.c.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('shared anonymous memory behaves as Linux\'s shmem file', async () => {
    await expectSameAsNative([fixture('shared_anon_shmem')], platform, 60_000);
  }, 120_000);
});
