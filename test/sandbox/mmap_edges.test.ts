// mmap/mremap edge cases (MAP_FIXED_NOREPLACE, MAP_GROWSDOWN and its guard gap, MREMAP_FIXED,
// MREMAP_DONTUNMAP, mprotect splits and merges in /proc/self/maps, msync and mincore errnos,
// mlock/mlock2/mlockall with RLIMIT_MEMLOCK and VmLck) compared with the native run of
// mmap_edges.c.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('mapping edge cases behave as natively', async () => {
    await expectSameAsNative([fixture('mmap_edges')], platform, 60_000);
  }, 120_000);
});
