// fork's copy-on-write in a loop, where the sandbox copies the pages a fork's parent and
// child wrote after the previous fork in advance (ts/mm/fork_hot.ts): each side sees memory
// as of its fork, natively and in the sandbox alike.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('parent and children of a fork loop never see each other\'s writes', async () => {
    await expectSameAsNative([fixture('fork_cow_loop')], platform, 60_000);
  }, 120_000);
});
