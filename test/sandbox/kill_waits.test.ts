// Death ends every wait. test/fixtures/kill_waits.c puts tasks in each kind of wait (a futex,
// a pipe read, a nanosleep, a busy loop, a stopped child, a ptrace-stopped one, pause()):
// SIGKILL from inside the sandbox ends them as natively, and SIGTERM or SIGKILL to tsvisor
// ends the sandbox with the status a shell would report (143, 137) and leaves nothing on the
// host (test/fixtures/host_subreaper.c lists what outlives the sentry). A wait that ignores
// the kill shows as a sandbox still there after the settle time ("status none").
import { describe, expect, it } from 'vitest';
import { cli, describeResult, expectSameAsNative, fixture, platforms, runNative, TIME_SCALE } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('SIGKILL ends a process whose tasks wait in every way, as natively', async () => {
    await expectSameAsNative([fixture('kill_waits'), 'inner'], platform, 60_000);
  }, 90_000);

  it.each([['SIGTERM', 15, 143], ['SIGKILL', 9, 137]])('%s to tsvisor ends the sandbox, every wait of it, nothing left on the host', async (_name, sig, status) => {
    const r = await runNative([
      fixture('host_subreaper'), 'ready', String(sig), String(15_000 * TIME_SCALE), '--',
      process.execPath, cli, 'run', '--platform', platform, '--', fixture('kill_waits'), 'host',
    ], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(`out: ready\nstatus ${status}\nleft 0\n`);
  }, 90_000);
});
