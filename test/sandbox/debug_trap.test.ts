// #DB in ring 3: the si_code of a single-step trap (TRAP_TRACE), of `int1` (TRAP_BRKPT) and
// of int3 (SI_KERNEL), si_addr and the rip the handler sees, as natively. On kvm the cause
// comes from DR6, which the platform reads at the #DB (issue 11).
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('single step, int1 and int3 trap with the si_code Linux gives', async () => {
    await expectSameAsNative([fixture('debug_trap')], platform);
  });
});
