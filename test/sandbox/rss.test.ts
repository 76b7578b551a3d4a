// Resident set sizes (ts/kernel/rss.ts, the platform's mapping table's counts): VmRSS, VmHWM,
// RssAnon/RssShmem, statm and ru_maxrss (self, children through wait4 and RUSAGE_CHILDREN,
// kept across execve), compared with the native run of rss.c. Before, VmRSS was the whole
// mapped size and ru_maxrss was 0.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('resident set and max RSS follow touches, unmaps, children and execve as natively', async () => {
    await expectSameAsNative([fixture('rss')], platform, 120_000);
  }, 240_000);
});
