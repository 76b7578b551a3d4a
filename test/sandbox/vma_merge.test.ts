// Which neighbouring VMAs merge, as /proc/self/maps shows: the anon_vma rules (a VMA a
// forked child inherited with pages never merges with a new neighbour, ranges faulted apart
// stay apart, one faulted beside a compatible neighbour shares its anon_vma) and mbind's
// per-VMA memory policies (split, merged back, inherited by fork, gone with munmap, moved by
// mremap), compared with the native run of vma_merge.c.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('VMAs merge and split as natively', async () => {
    await expectSameAsNative([fixture('vma_merge')], platform, 60_000);
  }, 120_000);
});
