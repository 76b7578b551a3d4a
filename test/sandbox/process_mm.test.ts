// process_madvise and process_mrelease compared with the native run of process_mm.c.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'remote process_madvise needs CAP_SYS_NICE (root here)');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('process_madvise and process_mrelease behave as natively', async () => {
    await expectSameAsNative([fixture('process_mm')], platform, 60_000);
  }, 120_000);
});
