// futex_waitv compared with the native run of futex_waitv.c.
import { release } from 'node:os';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

/** The sandbox answers as Linux 6.7 and later, which refuse a value wider than the futex
 *  (EINVAL); an older host kernel (the QEMU guest's 6.1) cuts it to u32 and waits, which the
 *  fixture bounds with a deadline. There that one line is checked against both answers. */
const [major, minor] = release().split('.').map(Number);
const oldHost = major < 6 || (major === 6 && minor < 7);
const WIDE = 'value wider than u32 = -1 ';
skipBecause(oldHost, `host kernel ${release()} predates 6.7: futex_waitv's "value wider than u32" answer is checked as 6.7's (EINVAL), the host's being ETIMEDOUT`);

describe.each(platforms)('%s', (platform) => {
  it('futex_waitv behaves as natively', async () => {
    const argv = [fixture('futex_waitv')];
    const native = await runNative(argv, { timeoutMs: 60_000 });
    const r = await runSandbox(argv, { platform, timeoutMs: 60_000 });
    let want = native.stdout;
    if (oldHost) {
      expect(want, describeResult(native)).toContain(`${WIDE}ETIMEDOUT\n`);
      want = want.replace(`${WIDE}ETIMEDOUT\n`, `${WIDE}EINVAL\n`);
    }
    expect(r.stdout, describeResult(r)).toBe(want);
    expect(r.code, describeResult(r)).toBe(native.code);
  }, 120_000);
});
