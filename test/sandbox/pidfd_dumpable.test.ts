// pidfd_getfd and the target's dumpable flag, compared with the native run of pidfd_dumpable.c.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the fixture drops from root to uid 1000');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('pidfd_getfd refuses a process that is not dumpable, as natively', async () => {
    await expectSameAsNative([fixture('pidfd_dumpable')], platform, 60_000);
  }, 120_000);
});
