// rename sets the moved inode's ctime (and both of RENAME_EXCHANGE's) to the time of the
// rename: it took the source directory's old mtime, which could be earlier than the file's
// own ctime. rename_times.c compared with the native run, in the memory overlay.
import { describe, it } from 'vitest';
import { expectSameAsNativeInFreshDir, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('times a rename moves, as natively', async () => {
    await expectSameAsNativeInFreshDir('rename_times', 'rename-times-', platform);
  });
});
