// lseek on proc's and sysfs's directories is generic_file_llseek over size 0 (SEEK_END on a
// /sys directory was EINVAL, SEEK_DATA/SEEK_HOLE EINVAL rather than ENXIO), while devtmpfs's
// and tmpfs's refuse all but SEEK_SET/SEEK_CUR: lseek_dirs.c compared with the native run.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('seeks in /proc, /sys and /dev directories as natively', async () => {
    await expectSameAsNative([fixture('lseek_dirs')], platform);
  });
});
