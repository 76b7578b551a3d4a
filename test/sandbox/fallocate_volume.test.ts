// fallocate(2) and SEEK_HOLE on a --volume file: the host file system does the work through
// the donated fd, so the answers are the native ones for a file in the same host directory
// (they were EOPNOTSUPP for every mode, and SEEK_HOLE saw no holes).
import { describe, it } from 'vitest';
import { expectSameAsNativeOnVolume, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('fallocate on a --volume file answers as the host file system does natively', async () => {
    await expectSameAsNativeOnVolume('fallocate_vol', 'tsvisor-falloc-', platform);
  });
});
