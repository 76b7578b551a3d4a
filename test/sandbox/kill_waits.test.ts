// Death ends every wait. test/fixtures/kill_waits.c puts tasks in each kind of wait (a futex,
// a pipe read, a nanosleep, a busy loop, a stopped child, a ptrace-stopped one, pause()):
// SIGKILL from inside the sandbox ends them as natively, and SIGTERM or SIGKILL to tsvisor
// ends the sandbox with the status a shell would report (143, 137) and leaves nothing on the
// host (test/fixtures/host_subreaper.c lists what outlives the sentry). A wait that ignores
// the kill shows as a sandbox still there after the settle time ("status none"). The SIGTERM
// also writes the hang report of --debug-log: a line per task saying what it waits on.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, describeResult, expectSameAsNative, fixture, platforms, runNative, TIME_SCALE } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('SIGKILL ends a process whose tasks wait in every way, as natively', async () => {
    await expectSameAsNative([fixture('kill_waits'), 'inner'], platform, 60_000);
  }, 90_000);

  it.each([['SIGTERM', 15, 143], ['SIGKILL', 9, 137]])('%s to tsvisor ends the sandbox, every wait of it, nothing left on the host', async (name, sig, status) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-kill-'));
    const log = path.join(dir, 'debug.log');
    try {
      const r = await runNative([
        fixture('host_subreaper'), 'ready', String(sig), String(15_000 * TIME_SCALE), '--',
        process.execPath, cli, 'run', '--platform', platform, '--debug-log', log, '--', fixture('kill_waits'), 'host',
      ], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeoutMs: 60_000 });
      expect(r.stdout, describeResult(r)).toBe(`out: ready\nstatus ${status}\nleft 0\n`);
      if (name === 'SIGTERM') {
        // The hang report: a line per task (five threads and two children), each saying
        // what it waits on.
        const lines = readFileSync(log, 'utf8').split('\n');
        const at = lines.findIndex((l) => l.includes('hang report (host SIGTERM): 7 tasks'));
        expect(at, lines.join('\n')).toBeGreaterThanOrEqual(0);
        const tasks = lines.slice(at + 1, at + 8);
        for (const t of tasks) expect(t).toMatch(/\[\d+\] tgid \d+ .*(awaiting (run|syscall|group stop)|running in the sentry).* ctx: /);
        // (Some may have begun dying already: the SIGTERM is forwarded first.)
        expect(tasks.filter((t) => t.includes('awaiting syscall')).length, tasks.join('\n')).toBeGreaterThanOrEqual(1);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
