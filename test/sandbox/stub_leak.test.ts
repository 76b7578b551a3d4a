// A sentry SIGKILLed at any moment leaves no process of its own on the host. A fork- and
// exec-heavy program runs under test/fixtures/host_subreaper.c, a child subreaper that kills
// the sentry after a delay drawn from a fixed seed, then lists every process the sentry
// started that outlives it (orphans are reparented to the subreaper, so nothing of another
// sandbox on the host is counted). The window this used to leak through, between a stub's
// spawn and its seize, lasts microseconds; TSVISOR_TEST_SEIZE_DELAY_US widens it (for this
// test only) so that the kills land in it. kvm has no stub processes; there the loop checks
// that nothing else of the sentry's (its gofer) outlives it.
import { describe, expect, it } from 'vitest';
import { cli, describeResult, fixture, platforms, runNative, TIME_SCALE } from '../helpers/run';
import { seededRandom } from '../helpers/rng';

const RUNS = 10;
const LOOP = 'i=0; while [ $i -lt 400 ]; do /bin/true; i=$((i+1)); done; echo done';

describe.each(platforms)('%s', (platform) => {
  it(`no stub outlives a sentry SIGKILLed at ${RUNS} random moments of a fork/exec loop`, async () => {
    const next = seededRandom(0x5eed_1eaf);
    const left: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const killAfterUs = Math.floor((150 + next() * 1500) * 1000 * TIME_SCALE);
      const r = await runNative([
        fixture('host_subreaper'), String(killAfterUs), '9', '3000', '--',
        process.execPath, cli, 'run', '--platform', platform, '--', '/bin/sh', '-c', LOOP,
      ], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TSVISOR_TEST_SEIZE_DELAY_US: '20000' }, timeoutMs: 30_000 });
      expect(r.code, describeResult(r)).toBe(0);
      expect(r.stdout, describeResult(r)).toMatch(/^left \d+$/m);
      for (const line of r.stdout.split('\n')) {
        if (/^left \d+ /.test(line)) left.push(`run ${i} (killed after ${Math.round(killAfterUs / 1000)} ms): ${line}`);
      }
    }
    expect(left, 'processes of the sentry left on the host').toEqual([]);
  }, 300_000);
});
