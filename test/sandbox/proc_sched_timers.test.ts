// /proc/<pid>/{sched,schedstat,timers,attr/*}, the Speculation_* status lines and
// PR_{GET,SET}_SPECULATION_CTRL, compared with the native run of proc_sched_timers.c (before,
// none of these files existed and the prctl options were EINVAL).
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('sched, schedstat, timers, attr and speculation control read as natively', async () => {
    await expectSameAsNative([fixture('proc_sched_timers')], platform, 60_000);
  }, 120_000);
});
