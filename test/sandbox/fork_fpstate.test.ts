// fork, vfork and pthread_create hand the creator's FP state to the child (fixture
// fork_fpstate.c), also once their syscall sites are patched: systrap then saves the state on
// the fast path's way in (stub.S) instead of asking the stopped thread for it.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('children and threads inherit MXCSR, the x87 control word and SSE registers', async () => {
    await expectSameAsNative([fixture('fork_fpstate')], platform, 60_000);
  }, 90_000);
});
