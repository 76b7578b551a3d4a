// The CLI behaves like the program it runs: an executable script is a program, signals sent
// to tsvisor reach the program (a terminal's Ctrl-C becomes Python's KeyboardInterrupt),
// a bad --cwd is a user error, and the stub processes say what they are on the host.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  busybox, cli, describeResult, fixture, haveBusybox, platforms, runSandbox, skipBecause, TIME_SCALE,
} from '../helpers/run';

const python = '/usr/bin/python3';
const noBusybox = skipBecause(!haveBusybox, `${busybox} not found (apt-get install busybox-static)`);

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-cli-'));
  writeFileSync(path.join(dir, 'script.sh'), `#!${busybox} sh\necho "args: $0 $*"\nexit 3\n`);
  chmodSync(path.join(dir, 'script.sh'), 0o755);
  writeFileSync(path.join(dir, 'nested'), `#!${path.join(dir, 'script.sh')} extra\n`);
  chmodSync(path.join(dir, 'nested'), 0o755);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs tsvisor, sends `sig` to it once the program printed its `ready` line (and had a
 *  moment to get past the print, as a signal inside it would cut it short natively too). */
function signalled(platform: string, argv: string[], sig: NodeJS.Signals): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'run', '--platform', platform, '--', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '', sent = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000 * TIME_SCALE);
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      if (!sent && stdout.includes('ready\n')) {
        sent = true;
        setTimeout(() => child.kill(sig), 200);
      }
    });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe.each(platforms)('%s', (platform) => {
  it.skipIf(noBusybox)('an executable #! script is a program, interpreters nest', async () => {
    const r = await runSandbox([path.join(dir, 'script.sh'), 'a', 'b'], { platform });
    expect(r.stdout, describeResult(r)).toBe(`args: ${path.join(dir, 'script.sh')} a b\n`);
    expect(r.code).toBe(3);
    const n = await runSandbox([path.join(dir, 'nested'), 'z'], { platform });
    expect(n.stdout, describeResult(n)).toBe(`args: ${path.join(dir, 'script.sh')} extra ${path.join(dir, 'nested')} z\n`);
    expect(n.code).toBe(3);
  });

  it('a program named by a relative path sees an absolute /proc/self/exe, and can re-exec itself', async () => {
    const r = await runSandbox(['./reexec'], { platform, extraArgs: ['--cwd', path.dirname(fixture('reexec'))] });
    const exe = fixture('reexec');
    expect(r.stdout, describeResult(r)).toBe(`exe ${exe} argc 1\nexe ${exe} argc 2\n`);
    expect(r.code).toBe(0);
  });

  it.skipIf(noBusybox)('a --cwd that is missing or not a directory is a user error (125)', async () => {
    const missing = await runSandbox([busybox, 'pwd'], { platform, extraArgs: ['--cwd', path.join(dir, 'nope')] });
    expect(missing.code, describeResult(missing)).toBe(125);
    expect(missing.stderr.trim()).toBe(`tsvisor: --cwd ${path.join(dir, 'nope')}: No such file or directory`);
    const file = await runSandbox([busybox, 'pwd'], { platform, extraArgs: ['--cwd', path.join(dir, 'script.sh')] });
    expect(file.code, describeResult(file)).toBe(125);
    expect(file.stderr.trim()).toBe(`tsvisor: --cwd ${path.join(dir, 'script.sh')}: Not a directory`);
    const ok = await runSandbox([busybox, 'pwd'], { platform, extraArgs: ['--cwd', dir] });
    expect(ok.stdout).toBe(`${dir}\n`);
  });

  it('SIGINT to tsvisor is a KeyboardInterrupt in Python', async () => {
    const r = await signalled(platform, [python, '-c', [
      'import sys, time',
      'try:',
      '    print("ready", flush=True); time.sleep(20)',
      'except KeyboardInterrupt:',
      '    print("KeyboardInterrupt", flush=True); sys.exit(5)',
    ].join('\n')], 'SIGINT');
    expect(r.stdout).toBe('ready\nKeyboardInterrupt\n');
    expect(r.code, r.stderr).toBe(5);
  }, 40_000 * TIME_SCALE);

  it.skipIf(noBusybox)('SIGTERM to tsvisor ends the program with SIGTERM (143)', async () => {
    const r = await signalled(platform, [busybox, 'sh', '-c', 'echo ready; exec sleep 20'], 'SIGTERM');
    expect(r.code, r.stderr).toBe(143);
  }, 40_000 * TIME_SCALE);

  // systrap and ptrace run the program in stub processes; kvm runs it in vCPU threads of the
  // sentry itself (crates/kvm/src/vcpu.rs), so there the gofer is the only child.
  const stubs = platform === 'kvm' ? { children: ['tsvisor-gofer'], threads: ['kvm-vcpu'] }
    : { children: ['tsvisor-stub', 'tsvisor-gofer'], threads: [] };
  it.skipIf(noBusybox)(`the sentry's helpers are named on the host: ${[...stubs.children, ...stubs.threads].join(', ')}`, async () => {
    const r = await runSandbox([busybox, 'true'], { platform, extraArgs: ['--debug-log', path.join(dir, `log-${platform}`)] });
    expect(r.code).toBe(0);
    // The stub's comm is set before the sentry seizes it; read it from one running now.
    const child = spawn(process.execPath, [cli, 'run', '--platform', platform, '--', busybox, 'sleep', '10'], { stdio: 'ignore' });
    const has = (names: string[], want: string[]): boolean => want.every((w) => names.includes(w));
    // Wait for the stub to be up (slow on a loaded machine), at most 15 s (times the scale).
    let names: string[] = [], threads: string[] = [];
    for (let i = 0; i < 150 * TIME_SCALE && !(has(names, stubs.children) && has(threads, stubs.threads)); i++) {
      await new Promise((res) => setTimeout(res, 100));
      try {
        const tids = readdirSync(`/proc/${child.pid}/task`);
        threads = tids.map((tid) => readFileSync(`/proc/${child.pid}/task/${tid}/comm`, 'utf8').trim());
        // Children of any of the sentry's threads (the gofer's is spawned by a helper thread).
        names = tids.flatMap((tid) => readFileSync(`/proc/${child.pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/))
          .filter((p) => p !== '').map((p) => readFileSync(`/proc/${p}/comm`, 'utf8').trim());
      } catch { names = []; threads = []; }
    }
    child.kill('SIGKILL');
    // The sentry's other child is its gofer (the file server).
    expect(new Set(names)).toEqual(new Set(stubs.children));
    for (const t of stubs.threads) expect(threads, `the sentry's threads: ${threads.join(', ')}`).toContain(t);
  }, 30_000 * TIME_SCALE);
});
