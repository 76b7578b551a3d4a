// /proc/pressure/{cpu,memory,io} compared with the native run of proc_pressure.c: psi's
// format, the CPU's zero "full" line, and the CPU's "some" total growing while more tasks
// than CPUs spin (before, /proc/pressure did not exist).
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('pressure files read as natively', async () => {
    await expectSameAsNative([fixture('proc_pressure')], platform, 60_000);
  }, 120_000);
});
