// /proc/sys/kernel/{hostname,domainname} written by root (write and splice, cut at a newline,
// a NUL or 64 bytes) and /proc/sys/kernel/tainted (privileged writes only), compared with the
// native run of proc_sys_kernel.c, which works in a UTS namespace of its own.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('hostname, domainname and tainted take writes as natively', async () => {
    await expectSameAsNative([fixture('proc_sys_kernel')], platform, 30_000);
  }, 60_000);
});
