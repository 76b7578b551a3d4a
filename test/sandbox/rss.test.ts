// Resident set sizes (ts/kernel/rss.ts, the platform's mapping table's counts): VmRSS, VmHWM,
// RssAnon/RssShmem, statm and ru_maxrss (self, children through wait4 and RUSAGE_CHILDREN,
// kept across execve), compared with the native run of rss.c. Before, VmRSS was the whole
// mapped size and ru_maxrss was 0.
import { describe, it } from 'vitest';
import { expectSameAsCurrentKernel, hostKernelBefore, type LineEdit } from '../helpers/native_kernel';
import { fixture, platforms, skipBecause } from '../helpers/run';

/** Before 6.2 ("mm: convert mm's rss stats into percpu_counter") a thread kept up to 63 page
 *  counts of its own, synced into the mm's every 64 faults: RssAnon and RssShmem read right
 *  after touching exactly 64 and 16 MiB may come short of them there. */
const SPLIT_RSS_6_2: LineEdit[] = skipBecause(hostKernelBefore(6, 2),
  'host kernel predates 6.2: its RssAnon/RssShmem may lag the last faults by up to 63 pages, those two thresholds are read as a current kernel\'s')
  ? [
    { old: /^(touched: grew >= 64 MiB 1, RssAnon >= 64 MiB )0(, statm agrees 1)$/m, now: '$11$2', sometimes: true },
    { old: /^(shared: RssShmem >= 16 MiB )0$/m, now: '$11', sometimes: true },
  ] : [];

describe.each(platforms)('%s', (platform) => {
  it('resident set and max RSS follow touches, unmaps, children and execve as natively', async () => {
    await expectSameAsCurrentKernel([fixture('rss')], platform, SPLIT_RSS_6_2, 120_000);
  }, 240_000);
});
