// vm.max_map_count: mmap past the limit, munmap's hole at it, mremap's room, compared with
// the native run of map_count.c at the default 65530; and, in the sandbox alone (natively it
// would change the host), the limit root writes to /proc/sys/vm/max_map_count.
import { describe, expect, it } from 'vitest';
import { describeResult, expectSameAsNative, fixture, platforms, runSandbox } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('the default limit holds as natively', async () => {
    await expectSameAsNative([fixture('map_count')], platform, 120_000);
  }, 240_000);

  it('a limit root sets holds', async () => {
    const r = await runSandbox([fixture('map_count'), 'lower'], { platform, timeoutMs: 60_000 });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout.split('\n').slice(0, 3)).toEqual([
      'max_map_count 2000',
      'mmap stopped with ENOMEM at 2001 VMAs (limit + 1)',
      'munmap of a VMA\'s middle page: -1 ENOMEM',
    ]);
  }, 120_000);
});
