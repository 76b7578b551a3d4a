// /proc/<pid>/{oom_score_adj,oom_adj,oom_score,timerslack_ns,coredump_filter,comm,
// personality,wchan,smaps,smaps_rollup} and PR_SET/GET_TIMERSLACK, compared with the native
// run of proc_tunables.c (before, most were missing and comm/oom_score_adj refused writes).
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('tunable /proc/<pid> files and smaps behave as natively', async () => {
    await expectSameAsNative([fixture('proc_tunables')], platform, 60_000);
  }, 120_000);
});
