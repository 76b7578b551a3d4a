// dnotify (fcntl F_NOTIFY): which changes in a directory send the owner's signal, the siginfo,
// DN_MULTISHOT, events added through the same fd, close and clear, errors: compared with the
// native run of dnotify.c. Before, F_NOTIFY was EINVAL (Python's test_fcntl caught it).
import { describe, it } from 'vitest';
import { expectSameAsNativeInFreshDir, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('F_NOTIFY behaves as natively', async () => {
    await expectSameAsNativeInFreshDir('dnotify', 'dnotify-', platform);
  }, 120_000);
});
