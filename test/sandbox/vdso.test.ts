// The vDSO of issue 12 (ts/loader/vdso.ts): AT_SYSINFO_EHDR, symbol lookup by hash and
// version, the functions' answers and [vdso] in /proc/self/maps, as natively (fixture
// vdso.c); and the syscall inside it is the sentry's to serve (it shows in --strace), on
// systrap too, where a syscall from outside the stub's text must trap.
import { describe, expect, it } from 'vitest';
import { describeResult, expectSameAsNative, fixture, platforms, runSandbox } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('the vDSO resolves and answers as natively', () =>
    expectSameAsNative([fixture('vdso')], platform, 30_000), 60_000);

  it('its syscalls are trapped and served by the sentry', async () => {
    const r = await runSandbox([fixture('vdso')], { platform, extraArgs: ['--strace'], timeoutMs: 30_000 });
    expect(r.code, describeResult(r)).toBe(0);
    // Only the vDSO calls these in the fixture.
    expect(r.stderr).toMatch(/clock_getres\(CLOCK_MONOTONIC, 0x[0-9a-f]+\) = 0/);
    expect(r.stderr).toMatch(/getcpu\(0x[0-9a-f]+, 0x[0-9a-f]+, NULL\) = 0/);
  }, 60_000);
});
