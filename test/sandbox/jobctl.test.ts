// Job control and terminals: stop/continue signals seen by wait and SIGCHLD (fixture
// jobctl.c), a pty pair made by the program (pty.c), both compared with the native run on
// every platform; and an interactive bash doing job control on a pty (pty_drive.py).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cli, describeResult, expectSameAsNative, fixture, platforms, repoRoot, runNative, runSandbox, TIME_SCALE,
} from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('stops and continues processes as natively', async () => {
    const native = await runNative([fixture('jobctl')], { timeoutMs: 30_000 });
    const r = await runSandbox([fixture('jobctl')], { platform, timeoutMs: 30_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(native.code);
  }, 70_000);
});

describe.each(platforms)('%s: pty', (platform) => {
  it('a pty pair made by the program behaves as natively', async () => {
    const native = await runNative([fixture('pty')], { timeoutMs: 30_000 });
    const r = await runSandbox([fixture('pty')], { platform, timeoutMs: 30_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(native.code);
  }, 70_000);

  it('the replica\'s writes wait for a master that does not read, as pty_write', async () => {
    const native = await runNative([fixture('pty_flow')], { timeoutMs: 30_000 });
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox([fixture('pty_flow')], { platform, timeoutMs: 30_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
  }, 70_000);

  it('VEOF in canonical mode, and left pending when the program goes raw, as n_tty keeps it', async () => {
    const native = await runNative([fixture('pty_eof')], { timeoutMs: 30_000 });
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox([fixture('pty_eof')], { platform, timeoutMs: 30_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
  }, 70_000);

  it('a new pair\'s termios (no HUPCL) and output processing with the cursor column (ONOCR, tabs, IUTF8)', async () => {
    await expectSameAsNative([fixture('pty_output')], platform, 30_000);
  }, 70_000);

  it('canonical erase takes a whole UTF-8 character under IUTF8, never part of one', async () => {
    await expectSameAsNative([fixture('pty_erase')], platform, 30_000);
  }, 70_000);

  it('packet mode (TIOCPKT): TIOCPKT_DATA before data, the replica\'s flushes as status bytes and POLLPRI', async () => {
    await expectSameAsNative([fixture('pty_packet')], platform, 30_000);
  }, 70_000);
});

const haveBash = existsSync('/bin/bash') && existsSync('/usr/bin/python3');
/** The jobs' sleep, s: the session must end well before it (nobody waited for one), so it is
 *  stretched with the machine's slowness (in the QEMU guest bash alone starts in ~10 s). */
const SLEEP = 10 * TIME_SCALE * TIME_SCALE;

/** The transcript of an interactive bash session typed by pty_drive.py, pids elided. */
function bashSession(argv: string[]): Promise<{ out: string; code: number | null; ms: number }> {
  const start = Date.now();
  return new Promise((resolve) => {
    execFile('/usr/bin/python3', [path.join(repoRoot, 'test', 'fixtures', 'pty_drive.py'), ...argv,
      '/bin/bash', '--norc', '--noprofile', '-i'], { timeout: 60_000 * TIME_SCALE, env: { ...process.env, PTY_DRIVE_SLEEP: String(SLEEP) } }, (err, stdout) => {
      const out = stdout.replace(/\r/g, '').replace(/^\[(\d+)\] \d+$/gm, '[$1] PID').replace(/(\^Z)+/g, '^Z');
      resolve({ out, code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, ms: Date.now() - start });
    });
  });
}

describe.each(platforms)('%s: interactive bash', (platform) => {
  it.skipIf(!haveBash)('does job control on a pty as natively', async () => {
    const native = await bashSession([]);
    const r = await bashSession([process.execPath, cli, 'run', `--platform=${platform}`, '--']);
    expect(r.out, r.out).toContain(`[1]+  Running                 sleep ${SLEEP} &`);
    expect(r.out).toContain(`^Z\n[2]+  Stopped                 sleep ${SLEEP}`);
    expect(r.out).toContain('waited 0');
    expect(r.out, r.out).toContain('EXIT 0');
    expect(r.code).toBe(0);
    // Up to the second `jobs`, the session is deterministic; after `kill`, when bash reports
    // the terminated jobs depends on timing, natively too.
    const upToKill = (s: string): string => s.slice(0, s.indexOf('PROMPT$ kill'));
    expect(upToKill(r.out)).toBe(upToKill(native.out));
    // Nobody waited for a sleep to finish.
    expect(r.ms).toBeLessThan((SLEEP - 1) * 1000);
  }, 70_000 * TIME_SCALE);
});
