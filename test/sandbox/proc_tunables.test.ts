// /proc/<pid>/{oom_score_adj,oom_adj,oom_score,timerslack_ns,coredump_filter,comm,
// personality,wchan,smaps,smaps_rollup} and PR_SET/GET_TIMERSLACK, compared with the native
// run of proc_tunables.c (before, most were missing and comm/oom_score_adj refused writes).
import { describe, it } from 'vitest';
import { expectSameAsCurrentKernel, nativeChrooted, nativeSoftDirty, type LineEdit } from '../helpers/native_kernel';
import { fixture, platforms, skipBecause } from '../helpers/run';

/** Where the native kernel marks new mappings soft-dirty (native_kernel.ts), the four smaps
 *  entries' VmFlags end in "sd" there. */
const SOFT_DIRTY: LineEdit[] = skipBecause(nativeSoftDirty(), 'the host kernel has CONFIG_MEM_SOFT_DIRTY (every new mapping is ' +
  'soft-dirty): the native VmFlags lines\' "sd" is checked and dropped, as a kernel without it (the default, the sandbox\'s model) shows them')
  ? [{ old: /^( {2}VmFlags: .*)sd $/m, now: '$1', times: 4 }] : [];

/** A chrooted native run (the QEMU guest's) cannot make a user namespace (EPERM: Linux's
 *  current_chrooted()), so its empty writes to the new namespace's maps are not made there;
 *  the sandbox's are held to what an unchrooted Linux answers (EINVAL from each map's parser). */
const CHROOTED: LineEdit[] = skipBecause(nativeChrooted(), 'the native run is chrooted, where unshare(CLONE_NEWUSER) is EPERM: ' +
  'its "no user namespace" line is read as an unchrooted run\'s three EINVAL writes')
  ? [{ old: /^no user namespace: 1$/m, now: ['uid_map', 'setgroups', 'gid_map'].map((f) => `write ${f}            -> -1 22`).join('\n') }] : [];

describe.each(platforms)('%s', (platform) => {
  it('tunable /proc/<pid> files and smaps behave as natively', async () => {
    await expectSameAsCurrentKernel([fixture('proc_tunables')], platform, [...SOFT_DIRTY, ...CHROOTED], 60_000);
  }, 120_000);
});
