// /proc/<pid>/status carries the fields Linux prints, in its order (fsimpl/proc/task_files.ts),
// and the values that do not depend on the machine's memory or the process: Kthread, CoreDumping,
// THP_enabled, untag_mask, Cpus_allowed(_list) under taskset, Mems_allowed(_list). The two
// Speculation_* lines depend on the CPU's mitigations and are left out of the comparison.
import { describe, it } from 'vitest';
import { expectSameAsCurrentKernel, hostKernelBefore, type LineEdit } from '../helpers/native_kernel';
import { platforms, skipBecause } from '../helpers/run';

const FIELDS = "cut -f1 /proc/self/status | grep -v '^Speculation'";
const VALUES = "taskset -c 1 grep -E '^(Kthread|CoreDumping|THP_enabled|untag_mask|HugetlbPages|Cpus_allowed|Cpus_allowed_list|Mems_allowed|Mems_allowed_list):' /proc/self/status";

/** Linux 6.4 added the Kthread field (after NSsid) and, on x86-64, untag_mask (after
 *  THP_enabled); an older host's field list is read with them in their places. */
const FIELDS_6_4: LineEdit[] = skipBecause(hostKernelBefore(6, 4),
  'host kernel predates 6.4: its status has no Kthread and untag_mask fields, the list is checked without them there')
  ? [
    { old: /^NSsid:\nVmPeak:$/m, now: 'NSsid:\nKthread:\nVmPeak:' },
    { old: /^THP_enabled:\nThreads:$/m, now: 'THP_enabled:\nuntag_mask:\nThreads:' },
  ] : [];

describe.each(platforms)('%s', (platform) => {
  it('status has Linux\'s fields in its order, and these values', async () => {
    await expectSameAsCurrentKernel(['/bin/sh', '-c', `${FIELDS}; ${VALUES}; ls /proc/sys/kernel/threads-max`], platform, FIELDS_6_4);
  }, 60_000);
});
