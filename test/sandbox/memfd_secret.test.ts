// memfd_secret compared with the native run of memfd_secret.c.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the fixture drops to nobody to meet RLIMIT_MEMLOCK');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('memfd_secret behaves as natively', async () => {
    await expectSameAsNative([fixture('memfd_secret')], platform, 60_000);
  }, 120_000);
});
