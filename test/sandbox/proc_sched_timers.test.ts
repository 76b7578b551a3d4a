// /proc/<pid>/{sched,schedstat,timers,attr/*}, the Speculation_* status lines and
// PR_{GET,SET}_SPECULATION_CTRL, compared with the native run of proc_sched_timers.c (before,
// none of these files existed and the prctl options were EINVAL).
import { describe, it } from 'vitest';
import { expectSameAsCurrentKernel, nativeTaskLsm, type LineEdit } from '../helpers/native_kernel';
import { fixture, platforms, skipBecause } from '../helpers/run';

/** Under a security module that labels tasks (AppArmor in the QEMU guest's Debian kernel),
 *  attr/current reads the label; without one it is EINVAL, as the sandbox models. */
const LSM: LineEdit[] = skipBecause(nativeTaskLsm(), 'the host kernel runs a security module that labels tasks ' +
  '(/proc/self/attr/current is readable): the native read of attr/current is read as a kernel\'s without one (EINVAL)')
  ? [{ old: /^(\/proc\/self\/attr\/current: mode 100666 uid 0\n {2}read )\d+ 0$/m, now: '$1-1 22' }] : [];

describe.each(platforms)('%s', (platform) => {
  it('sched, schedstat, timers, attr and speculation control read as natively', async () => {
    await expectSameAsCurrentKernel([fixture('proc_sched_timers')], platform, LSM, 60_000);
  }, 120_000);
});
