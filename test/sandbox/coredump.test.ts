// Core dumps (fs/coredump.c): coredump.c compared with the native run (core_pattern "core":
// which deaths write a core and set WCOREDUMP, what the ELF core holds), and in the sandbox
// alone, core_pattern's specifiers, core_uses_pid and a pipe pattern (changing them natively
// would change the host's setting).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeResult, expectSameAsNative, fixture, platforms, runSandbox, skipBecause } from '../helpers/run';

const hostPattern = (() => { try { return readFileSync('/proc/sys/kernel/core_pattern', 'utf8').trim(); } catch { return ''; } })();
const otherPattern = skipBecause(hostPattern !== 'core', `the host's core_pattern is "${hostPattern}", not "core"`);

describe.each(platforms)('%s', (platform) => {
  it.skipIf(otherPattern)('dumps core as natively', async () => {
    await expectSameAsNative([fixture('coredump')], platform, 60_000);
  }, 120_000);

  it('follows core_pattern and core_uses_pid', async () => {
    const r = await runSandbox([fixture('coredump'), 'patterns'], { platform, timeoutMs: 60_000 });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toBe([
      'pattern cores/%e-%s-%%-%c-%z: WCOREDUMP 1, cores/coredump-6-%-18446744073709551615- written',
      'pattern core: WCOREDUMP 1, core.3 written',
      'pattern |/bin/false: WCOREDUMP 0, core.PID absent',
      '',
    ].join('\n'));
  }, 120_000);
});
