// The less common prctl options and AT_MINSIGSTKSZ (syscalls/linux/prctl_misc.ts,
// loader/host_auxv.ts), compared with the native run of prctl_misc.c: before, every one of
// these options was EINVAL and the initial program's auxv lacked AT_MINSIGSTKSZ.
import { describe, it } from 'vitest';
import { expectSameAsCurrentKernel, hostKernelBefore, type LineEdit } from '../helpers/native_kernel';
import { fixture, platforms, skipBecause } from '../helpers/run';

/** Options newer than the host's kernel, EINVAL there: PR_GET_MDWE (6.3), PR_SET/GET_MEMORY_MERGE
 *  and PR_GET_AUXV (6.4). The sandbox answers as a current kernel (its auxv: 28 entries). */
const NEWER_OPTIONS: LineEdit[] = [
  ...(skipBecause(hostKernelBefore(6, 3), 'host kernel predates 6.3: PR_GET_MDWE is EINVAL there, the sandbox\'s answer is checked against that line instead')
    ? [{ old: /^GET_MDWE +-1 22$/m, now: 'GET_MDWE                   0 0' }] : []),
  ...(skipBecause(hostKernelBefore(6, 4), 'host kernel predates 6.4: PR_GET/SET_MEMORY_MERGE and PR_GET_AUXV are EINVAL there, the sandbox\'s answers are checked against those lines instead')
    ? [
      { old: /^GET_MEMORY_MERGE +-1 22$/m, now: 'GET_MEMORY_MERGE           0 0' },
      { old: /^SET_MEMORY_MERGE no cap +-1 22$/m, now: 'SET_MEMORY_MERGE no cap    0 0' },
      { old: /^GET_AUXV size -1, matches \/proc\/self\/auxv 0, zero tail 1, untouched past it 0$/m, now: 'GET_AUXV size 448, matches /proc/self/auxv 1, zero tail 1, untouched past it 1' },
      { old: /^GET_AUXV short +-1 22$/m, now: 'GET_AUXV short             448 0' },
    ] : []),
];

describe.each(platforms)('%s', (platform) => {
  it('prctl TSC, timing, MCE, THP, tid address, perf, KSM, MDWE, I/O flusher, auxv, SET_MM as natively', async () => {
    await expectSameAsCurrentKernel([fixture('prctl_misc')], platform, NEWER_OPTIONS, 60_000);
  }, 120_000);
});
