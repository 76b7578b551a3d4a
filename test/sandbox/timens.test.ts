// Time namespaces (ts/kernel/ns/time_ns.ts): the timens fixture compared with its native run
// as root — /proc/self/timens_offsets and its write rules, CLOCK_MONOTONIC/BOOTTIME (and
// /proc/uptime) offset in a child, absolute sleeps and timerfds on the offset clocks, exec,
// setns and clone3(CLONE_NEWTIME) entering the namespace (before, CLONE_NEWTIME was EINVAL).
import { describe, it } from 'vitest';
import { expectSameAsCurrentKernel, hostKernelBefore, type LineEdit } from '../helpers/native_kernel';
import { fixture, platforms, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run makes time namespaces: it needs root');

/** Before 6.2 ('fs/exec: switch timens when a task gets a new mm') exec left a task in its
 *  old time namespace; since, the new image enters time_for_children. */
const EXEC: LineEdit[] = skipBecause(hostKernelBefore(6, 2), 'the host kernel predates 6.2, whose exec enters ' +
  'time_for_children: the two native lines after exec are read as a current kernel\'s')
  ? [
    { old: /^after exec: monotonic \+0 coarse \+0 raw \+0 boottime \+0 realtime \+0$/m, now: 'after exec: monotonic -700 coarse -700 raw -700 boottime -1600 realtime +0' },
    { old: /^after exec, time and time_for_children are one: 0$/m, now: 'after exec, time and time_for_children are one: 1' },
  ] : [];

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('time namespaces behave as natively', async () => {
    await expectSameAsCurrentKernel([fixture('timens')], platform, EXEC, 90_000);
  }, 180_000);
});
