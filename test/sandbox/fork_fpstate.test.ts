// fork, vfork and pthread_create hand the creator's FP state to the child (fixture
// fork_fpstate.c), also once their syscall sites are patched: systrap then saves the state on
// the fast path's way in (stub.S) instead of asking the stopped thread for it. rt_sigreturn's
// FP image (sigreturn_fpstate.c) is loaded by the thread on its way out there.
import { describe, expect, it } from 'vitest';
import { describeResult, expectSameAsNative, fixture, platforms, runNative, runSandbox } from '../helpers/run';

/** QEMU's emulated CPU (TCG, where the KVM suite runs) loads MXCSR's reserved bits where a real
 *  x86 CPU faults (ldmxcsr 0xffffffff runs there), so Linux there takes the bad frame; on real
 *  CPUs it is SIGSEGV, and the sandbox checks MXCSR itself, on every platform and host. */
const MXCSR_MASKED = 'corrupt 1: exit 0\n';
const MXCSR_REFUSED = 'corrupt 1: signal 11\n';

describe.each(platforms)('%s', (platform) => {
  it('children and threads inherit MXCSR, the x87 control word and SSE registers', async () => {
    await expectSameAsNative([fixture('fork_fpstate')], platform, 60_000);
  }, 90_000);

  // The image rt_sigreturn loads: on systrap's patched path, the thread loads it on its way out.
  it('rt_sigreturn loads the frame\'s edited FP state, and a corrupt one is SIGSEGV', async () => {
    const native = await runNative([fixture('sigreturn_fpstate')], { timeoutMs: 60_000 });
    let want = native.stdout;
    if (want.includes(MXCSR_MASKED)) {
      console.log('sigreturn_fpstate: this CPU loads reserved MXCSR bits natively (an emulated one); the sandbox is checked against a real CPU\'s answer (SIGSEGV) for that line');
      want = want.replace(MXCSR_MASKED, MXCSR_REFUSED);
    }
    const r = await runSandbox([fixture('sigreturn_fpstate')], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(want);
    expect(r.code, describeResult(r)).toBe(native.code);
  }, 90_000);
});
