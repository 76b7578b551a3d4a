// /proc/<pid>/status carries the fields Linux prints, in its order (fsimpl/proc/task_files.ts),
// and the values that do not depend on the machine's memory or the process: Kthread, CoreDumping,
// THP_enabled, untag_mask, Cpus_allowed(_list) under taskset, Mems_allowed(_list). The two
// Speculation_* lines depend on the CPU's mitigations and are left out of the comparison.
import { describe, it } from 'vitest';
import { expectSameAsNative, platforms } from '../helpers/run';

const FIELDS = "cut -f1 /proc/self/status | grep -v '^Speculation'";
const VALUES = "taskset -c 1 grep -E '^(Kthread|CoreDumping|THP_enabled|untag_mask|HugetlbPages|Cpus_allowed|Cpus_allowed_list|Mems_allowed|Mems_allowed_list):' /proc/self/status";

describe.each(platforms)('%s', (platform) => {
  it('status has Linux\'s fields in its order, and these values', async () => {
    await expectSameAsNative(['/bin/sh', '-c', `${FIELDS}; ${VALUES}; ls /proc/sys/kernel/threads-max`], platform);
  }, 60_000);
});
