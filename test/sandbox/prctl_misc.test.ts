// The less common prctl options and AT_MINSIGSTKSZ (syscalls/linux/prctl_misc.ts,
// loader/host_auxv.ts), compared with the native run of prctl_misc.c: before, every one of
// these options was EINVAL and the initial program's auxv lacked AT_MINSIGSTKSZ.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('prctl TSC, timing, MCE, THP, tid address, perf, KSM, MDWE, I/O flusher, auxv, SET_MM as natively', async () => {
    await expectSameAsNative([fixture('prctl_misc')], platform, 60_000);
  }, 120_000);
});
