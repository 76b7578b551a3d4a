// memfd_secret compared with the native run of memfd_secret.c.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the fixture drops to nobody to meet RLIMIT_MEMLOCK');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('memfd_secret behaves as natively', async (ctx) => {
    const native = await runNative([fixture('memfd_secret')], { timeoutMs: 60_000 });
    // Linux 5.14-6.4 have it only when booted with secretmem.enable=1 (the QEMU guest's 6.1 is
    // not), and not at all without CONFIG_SECRETMEM: every call is ENOSYS there.
    if (skipBecause(/^O_CLOEXEC = -1 ENOSYS$/m.test(native.stdout),
      'the host kernel refuses memfd_secret (ENOSYS: before 6.5 without secretmem.enable=1, or no CONFIG_SECRETMEM): no native run to compare with')) {
      return ctx.skip();
    }
    const r = await runSandbox([fixture('memfd_secret')], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(native.code);
  }, 120_000);
});
