// Keyrings: add_key, request_key and keyctl compared with the native run of fixture
// keyrings.c (which starts from a fresh anonymous session keyring and prints only relations
// between serials, which are random).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

// The host kernel must have keyrings (CONFIG_KEYS, which gives /proc/keys) for the native run.
const noKeys = skipBecause(!existsSync('/proc/keys'), 'the host kernel has no keyrings (no /proc/keys)');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(noKeys)('keys and keyrings behave as natively', async () => {
    const native = await runNative([fixture('keyrings')], { timeoutMs: 30_000 });
    expect(native.code, describeResult(native)).toBe(0);
    expect(native.stdout).toContain('link session into sub (cycle): -1 EDEADLK');
    const r = await runSandbox([fixture('keyrings')], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(native.code);
  }, 120_000);

  // Sandbox only: natively it would leave keys in the host user's keyrings.
  it('hostile arguments from a fixed seed get answers, never a crash', async () => {
    const r = await runSandbox([fixture('keyrings_fuzz')], { platform, timeoutMs: 120_000 });
    expect(r.stdout, describeResult(r)).toMatch(/^done: \d+ successes, \d+ kinds of errno\n$/);
    expect(r.code).toBe(0);
  }, 180_000);
});
