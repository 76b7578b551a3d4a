// settimeofday and clock_settime: the errnos compared with the native run of settime.c as
// nobody; the time zone round trip and the refusal to move the host clock as root, in the
// sandbox only (natively, root would change the host's time zone).
import { describe, expect, it } from 'vitest';
import { describeResult, expectSameAsNative, fixture, platforms, runSandbox, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the fixture drops from root to nobody');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('settimeofday and clock_settime errnos are native ones', async () => {
    await expectSameAsNative([fixture('settime')], platform, 60_000);
  }, 120_000);

  it('root sets the time zone, not the clock', async () => {
    const r = await runSandbox([fixture('settime'), 'root'], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe([
      'root: settimeofday tz only = 0',
      'root: gettimeofday tz -120 0',
      'root: settimeofday now = -1 EPERM',
      'root: clock_settime REALTIME = -1 EPERM',
      '',
    ].join('\n'));
  }, 120_000);
});
