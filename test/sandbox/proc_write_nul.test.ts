// A number written to a /proc/<pid> tunable ends at a NUL, as the kernel's C-string parsers
// read it ("7\0" to coredump_filter was EINVAL): proc_write_nul.c compared with the native run.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('writes with a NUL inside their count, as natively', async () => {
    await expectSameAsNative([fixture('proc_write_nul')], platform);
  });
});
