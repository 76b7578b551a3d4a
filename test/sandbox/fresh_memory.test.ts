// Fresh memory reads zero whatever earlier users of its pages left there (fresh_memory.c):
// the memory file keeps freed pages for reuse (crates/memfile, the kept pool) and must clear
// them before anyone gets them again, across munmap, exit, copy-on-write copies and tmpfs.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('memory let go by one process reaches the next cleared', async () => {
    await expectSameAsNative([fixture('fresh_memory')], platform, 120_000);
  }, 240_000);
});
