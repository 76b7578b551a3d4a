// Heuristic overcommit (vm.overcommit_memory 0): mmap, mprotect, brk and mremap refuse one
// request to commit more than all of RAM, and grant what commits nothing; overcommit.c
// compared with the native run.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('refuses obvious overcommits as Linux does', async () => {
    await expectSameAsNative([fixture('overcommit')], platform, 60_000);
  }, 120_000);
});
