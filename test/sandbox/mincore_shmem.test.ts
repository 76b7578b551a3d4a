// mincore of shared anonymous memory (a shmem file: resident once anyone sharing it touched a
// page; MAP_POPULATE and mlock make pages present, MLOCK_ONFAULT does not, MADV_DONTNEED keeps
// them) and of a private mapping of a tmpfs file (the file's pages count): mincore_shmem.c
// compared with the native run.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('reports shared anonymous pages as Linux does', async () => {
    await expectSameAsNative([fixture('mincore_shmem')], platform, 60_000);
  }, 120_000);
});
