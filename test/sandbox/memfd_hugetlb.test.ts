// memfd_create(MFD_HUGETLB) compared with the native run of memfd_hugetlb.c, on a host that,
// like the sandbox, has no huge page pool.
import { readFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms, skipBecause } from '../helpers/run';

const pool = Number(/HugePages_Total:\s*(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? '0');
const hasPool = skipBecause(pool !== 0, 'this host has a huge page pool: its hugetlb files map, the sandbox\'s cannot');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(hasPool)('hugetlb memfds behave as natively', async () => {
    await expectSameAsNative([fixture('memfd_hugetlb')], platform, 60_000);
  }, 120_000);
});
