// fork, vfork and pthread_create hand the creator's FP state to the child (fixture
// fork_fpstate.c), also once their syscall sites are patched: systrap then saves the state on
// the fast path's way in (stub.S) instead of asking the stopped thread for it. rt_sigreturn's
// FP image (sigreturn_fpstate.c) is loaded by the thread on its way out there.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('children and threads inherit MXCSR, the x87 control word and SSE registers', async () => {
    await expectSameAsNative([fixture('fork_fpstate')], platform, 60_000);
  }, 90_000);

  // The image rt_sigreturn loads: on systrap's patched path, the thread loads it on its way out.
  it('rt_sigreturn loads the frame\'s edited FP state, and a corrupt one is SIGSEGV', async () => {
    await expectSameAsNative([fixture('sigreturn_fpstate')], platform, 60_000);
  }, 90_000);
});
