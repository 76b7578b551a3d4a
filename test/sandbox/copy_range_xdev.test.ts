// copy_file_range across file systems (syscalls/linux/sys_sendfile.ts) compared with the
// native run of copy_range_xdev.c: tmpfs to the root and /proc to the root are EXDEV.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('EXDEV between file systems, a copy within one, as natively', async () => {
    await expectSameAsNative([fixture('copy_range_xdev')], platform);
  }, 60_000);
});
