// ustat(2) and sysfs(2) compared with the native run of fsinfo.c.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('ustat and sysfs behave as natively', async () => {
    await expectSameAsNative([fixture('fsinfo')], platform, 60_000);
  }, 120_000);
});
