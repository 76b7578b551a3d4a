// Hostile programs against systrap's wake-up path (crates/systrap/src/wakes.rs): while worker
// threads compute and their runs are parked, the program clears the workers' "sentry
// sleeping" flags (their stops then wake nobody), FUTEX_WAKEs their message words through
// the stub's own syscall instruction (a wake with no stop behind it), or writes fixed-seed
// values into the "stub sleeping" flags and poll budgets the hand-off's spin reads. Each stop must be
// reported exactly when it happens — every syscall of the workers answered right — on the
// waiter threads (default) and on the event-loop ring (TSVISOR_WAKE=ring); the sentry stays
// up. The message pages exist on systrap only.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runSandbox, skipBecause } from '../helpers/run';

const systrap = platforms.includes('systrap');

async function runWith(wake: string, mode: string): Promise<Awaited<ReturnType<typeof runSandbox>>> {
  const saved = process.env.TSVISOR_WAKE;
  process.env.TSVISOR_WAKE = wake;
  try {
    // The sentry's environment is this process's at spawn.
    return await runSandbox([fixture('hostile_wake'), mode], { platform: 'systrap', timeoutMs: 60_000 });
  } finally {
    if (saved === undefined) delete process.env.TSVISOR_WAKE;
    else process.env.TSVISOR_WAKE = saved;
  }
}

describe.skipIf(skipBecause(!systrap, 'the systrap platform is not available here'))('systrap wake-up path', () => {
  describe.each(['ring', 'thread'])('%s', (wake) => {
    it.each(['sleepflag', 'wake', 'nospin', 'peerflag'])('forging %s: every stop reported when it happens, no other', async (mode) => {
      const r = await runWith(wake, mode);
      expect(r.stderr, describeResult(r)).not.toMatch(/internal error|sentry failure/);
      expect(r.stdout, describeResult(r)).toBe(`${mode}: ok\n`);
      expect(r.code, describeResult(r)).toBe(0);
    }, 90_000);
  });
});
