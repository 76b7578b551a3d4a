// Time namespaces (ts/kernel/ns/time_ns.ts): the timens fixture compared with its native run
// as root — /proc/self/timens_offsets and its write rules, CLOCK_MONOTONIC/BOOTTIME (and
// /proc/uptime) offset in a child, absolute sleeps and timerfds on the offset clocks, exec,
// setns and clone3(CLONE_NEWTIME) entering the namespace (before, CLONE_NEWTIME was EINVAL).
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run makes time namespaces: it needs root');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('time namespaces behave as natively', async () => {
    await expectSameAsNative([fixture('timens')], platform, 90_000);
  }, 180_000);
});
