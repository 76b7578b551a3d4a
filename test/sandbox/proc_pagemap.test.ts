// /proc/<pid>/pagemap and map_files compared with the native run of proc_pagemap.c: page
// flags across touches, fork sharing and copy-on-write, the frame hidden without
// CAP_SYS_ADMIN, the read rules with a fixed-seed fuzz of offsets and counts, and map_files'
// names, modes, links and refusals (before, neither existed).
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('pagemap and map_files read as natively', async () => {
    await expectSameAsNative([fixture('proc_pagemap')], platform, 60_000);
  }, 120_000);
});
