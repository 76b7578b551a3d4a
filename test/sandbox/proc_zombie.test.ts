// A zombie's /proc/<pid> files (ThreadGroup.lastExited), compared with the native run of
// proc_zombie.c.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('a zombie reads as Z in /proc/<pid>/stat and status', async () => {
    await expectSameAsNative([fixture('proc_zombie')], platform, 60_000);
  }, 120_000);
});
