// Set-user-ID and set-group-ID bits taken off by a write, a truncation or a chown (pjdfstest's
// chmod/12 and chown/00 found both missing): setid_drop.c compared with the native run, in the
// memory overlay and on a --volume (where the host would not drop them: the sentry writes
// with CAP_FSETID).
import { describe, it } from 'vitest';
import { expectSameAsNativeInFreshDir, expectSameAsNativeOnVolume, platforms, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run needs root (it writes as another uid and chowns to root)');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('writes, truncations and chowns drop set-id bits as natively', async () => {
    await expectSameAsNativeInFreshDir('setid_drop', 'setid-drop-', platform, 120_000);
  }, 240_000);

  it.skipIf(notRoot)('the same on a --volume', async () => {
    await expectSameAsNativeOnVolume('setid_drop', 'setid-drop-', platform, { timeoutMs: 120_000 });
  }, 240_000);
});
