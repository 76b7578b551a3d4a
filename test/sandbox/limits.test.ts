// Limits: what one sandbox may take. A memory hog under --memory is OOM-killed (SIGKILL) and
// the sandbox stays up; a fork bomb under --pids gets EAGAIN and ends; RLIMIT_NPROC holds for
// a non-root uid. Linux is the oracle: where this host allows it (root, cgroup v1 memory and
// pids controllers) the same fixtures run natively in a cgroup with the same limit, and the
// outcome must match. Every fixture bounds itself (a few hundred MiB, a few hundred tasks),
// so a limit that fails shows as a wrong answer, never as a hang.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cli, describeResult, fixture, platforms, runNative, runSandbox, shellStatus, skipBecause,
  type RunResult,
} from '../helpers/run';

/** Runs are bounded by the fixtures; this only catches a hung sandbox early. */
const TIMEOUT_MS = 40_000;

function sentryStayedUp(r: RunResult): void {
  expect(r.stderr, describeResult(r)).not.toMatch(/internal error|sentry failure/);
}

const isRoot = process.getuid?.() === 0;
const CGROUP_V1 = '/sys/fs/cgroup';

/** Whether fixtures can run natively in a v1 cgroup of `controller` here. */
function cgroupWorks(controller: string): boolean {
  return isRoot && existsSync(path.join(CGROUP_V1, controller, 'cgroup.procs'));
}

let cgroupSeq = 0;

/** Run argv natively inside a fresh v1 cgroup of `controller` with `file` set to `value`. */
async function runNativeInCgroup(controller: string, file: string, value: string, argv: string[]): Promise<RunResult> {
  const dir = path.join(CGROUP_V1, controller, `tsvisor-test-${process.pid}-${cgroupSeq++}`);
  mkdirSync(dir);
  try {
    writeFileSync(path.join(dir, file), value);
    return await runNative(['/bin/sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir, ...argv],
      { timeoutMs: TIMEOUT_MS });
  } finally {
    rmdirSync(dir);
  }
}

/** The native outcome under a cgroup limit, or null (with a warning) where that cannot run. */
async function nativeUnder(controller: string, file: string, value: string, argv: string[]): Promise<RunResult | null> {
  if (skipBecause(!cgroupWorks(controller), `no native ${controller} cgroup here (needs root and cgroup v1): no Linux oracle for ${argv.join(' ')}`)) {
    return null;
  }
  return runNativeInCgroup(controller, file, value, argv);
}

function debugLogPath(name: string): string {
  const p = path.join(tmpdir(), `tsvisor-limits-${process.pid}-${name}.log`);
  rmSync(p, { force: true });
  return p;
}

function readAndRemove(p: string): string {
  const s = existsSync(p) ? readFileSync(p, 'utf8') : '';
  rmSync(p, { force: true });
  return s;
}

const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
const asNobody = setpriv === undefined ? [] : [setpriv, '--reuid', '65534', '--regid', '65534', '--clear-groups'];
/** Whether nobody may open /dev/kvm: a bare devtmpfs (the QEMU guest's) leaves it 0600 root. */
const nobodyOpensKvm = (): boolean => spawnSync(asNobody[0]!, [...asNobody.slice(1), 'test', '-r', '/dev/kvm', '-a', '-w', '/dev/kvm']).status === 0;

describe.each(platforms)('%s', (platform) => {
  it('a memory hog under --memory 64M is OOM-killed (137); the sentry stays within the limit', async () => {
    const log = debugLogPath(`${platform}-hog`);
    const r = await runSandbox([fixture('memhog'), 'touch', '256'],
      { platform, extraArgs: ['--memory', '64M', '--debug-log', log], timeoutMs: TIMEOUT_MS });
    const debug = readAndRemove(log);
    expect(shellStatus(r), describeResult(r)).toBe(137);
    expect(r.stdout).toContain('touched 8 MiB\n');
    expect(r.stdout).not.toContain('done');
    sentryStayedUp(r);
    expect(debug).toMatch(/limits: memory 64 MiB \(67108864 bytes\)/);
    const m = /out of memory: killed process \d+ \((\d+) bytes allocated\)/.exec(debug);
    expect(m, debug).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(64 << 20);
    const native = await nativeUnder('memory', 'memory.limit_in_bytes', String(64 << 20), [fixture('memhog'), 'touch', '256']);
    if (native) expect(shellStatus(native), describeResult(native)).toBe(137);
  });

  it('a parent whose hog child is OOM-killed sees WIFSIGNALED/SIGKILL and goes on', async () => {
    const argv = [fixture('memhog'), 'fork', '256'];
    const r = await runSandbox(argv, { platform, extraArgs: ['--memory', '64M'], timeoutMs: TIMEOUT_MS });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toContain('child killed by signal 9\n');
    expect(r.stdout).toMatch(/parent alive\n$/);
    sentryStayedUp(r);
    const native = await nativeUnder('memory', 'memory.limit_in_bytes', String(64 << 20), argv);
    if (native) {
      expect(native.code, describeResult(native)).toBe(0);
      expect(native.stdout).toContain('child killed by signal 9\n');
    }
  });

  it('mmap of 100 GiB succeeds; touching past the limit kills', async () => {
    const argv = [fixture('memhog'), 'huge', '256'];
    const r = await runSandbox(argv, { platform, extraArgs: ['--memory', '64M'], timeoutMs: TIMEOUT_MS });
    expect(r.stdout, describeResult(r)).toMatch(/^mmap 100 GiB: ok\ntouched 8 MiB\n/);
    expect(shellStatus(r), describeResult(r)).toBe(137);
    sentryStayedUp(r);
    const native = await nativeUnder('memory', 'memory.limit_in_bytes', String(64 << 20), argv);
    if (native) {
      expect(native.stdout).toMatch(/^mmap 100 GiB: ok\n/);
      expect(shellStatus(native), describeResult(native)).toBe(137);
    }
  });

  it('writing a file into tmpfs past the limit OOM-kills the writer, as Linux does', async () => {
    // /tmp is the overlay's in-memory upper layer here: its pages are memory-file pages.
    const r = await runSandbox([fixture('memhog'), 'tmpfs', '256', '/tmp'],
      { platform, extraArgs: ['--memory', '64M'], timeoutMs: TIMEOUT_MS });
    expect(shellStatus(r), describeResult(r)).toBe(137);
    expect(r.stdout).toContain('wrote 8 MiB\n');
    sentryStayedUp(r);
    const native = await nativeUnder('memory', 'memory.limit_in_bytes', String(64 << 20),
      [fixture('memhog'), 'tmpfs', '256', '/dev/shm']);
    if (native) expect(shellStatus(native), describeResult(native)).toBe(137);
  });

  it('a fork bomb under --pids 32 gets EAGAIN and the sandbox ends cleanly', async () => {
    const argv = [fixture('forkbomb'), 'bomb'];
    const r = await runSandbox(argv, { platform, extraArgs: ['--pids', '32'], timeoutMs: TIMEOUT_MS });
    expect(r.code, describeResult(r)).toBe(0);
    // 32 tasks: the collector, the bomb's root and 30 more.
    expect(r.stdout).toBe('forks ok: 30, EAGAIN: yes, other errors: 0\nbomb root exited 0\n');
    sentryStayedUp(r);
    const native = await nativeUnder('pids', 'pids.max', '32', argv);
    if (native) expect(native.stdout, describeResult(native)).toBe(r.stdout);
  });

  it('pthread_create, fork, vfork and clone3 past --pids get EAGAIN', async () => {
    const argv = [fixture('forkbomb'), 'threads'];
    const r = await runSandbox(argv, { platform, extraArgs: ['--pids', '32'], timeoutMs: TIMEOUT_MS });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toBe('threads created: 31, then EAGAIN\nfork at the limit: EAGAIN\n' +
      'vfork at the limit: EAGAIN\nclone3 at the limit: EAGAIN\njoined 31\n');
    sentryStayedUp(r);
    const native = await nativeUnder('pids', 'pids.max', '32', argv);
    if (native) expect(native.stdout, describeResult(native)).toBe(r.stdout);
  });

  it('RLIMIT_NPROC does not bind root', async () => {
    const argv = [fixture('nproc'), '1'];
    const r = await runSandbox(argv, { platform, timeoutMs: TIMEOUT_MS });
    expect(r.code, describeResult(r)).toBe(0);
    if (isRoot) {
      expect(r.stdout).toBe('root, RLIMIT_NPROC 1\nforks: 8, then no error\nthreads: 8, then no error\n');
      const native = await runNative(argv, { timeoutMs: TIMEOUT_MS });
      expect(native.stdout).toBe(r.stdout);
    }
    sentryStayedUp(r);
  });

  // set*id is not implemented in the sandbox yet, so a non-root uid comes from the host:
  // tsvisor itself runs as nobody (setpriv), and the program starts with that uid.
  it.skipIf(skipBecause(!isRoot || setpriv === undefined, 'RLIMIT_NPROC for a non-root uid needs root and setpriv here') ||
    skipBecause(platform === 'kvm' && !nobodyOpensKvm(), 'tsvisor runs as nobody here, who may not open /dev/kvm'))(
    'RLIMIT_NPROC binds a non-root uid: fork and pthread_create fail with EAGAIN at the limit', async () => {
      const argv = [fixture('nproc'), '3'];
      const r = await runNative([...asNobody, process.execPath, cli, 'run', '--platform', platform, '--', ...argv],
        { timeoutMs: TIMEOUT_MS, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
      expect(r.code, describeResult(r)).toBe(0);
      expect(r.stdout).toBe('not root, RLIMIT_NPROC 3\nforks: 2, then EAGAIN\nthreads: 0, then EAGAIN\n');
      sentryStayedUp(r);
      const nobodyProcs = spawnSync('pgrep', ['-u', '65534']).stdout.toString().trim();
      if (nobodyProcs === '') {
        const native = await runNative([...asNobody, ...argv], { timeoutMs: TIMEOUT_MS });
        expect(native.stdout, describeResult(native)).toBe(r.stdout);
      }
    });

  it('the default limits are bounded and shown in the debug log', async () => {
    const log = debugLogPath(`${platform}-defaults`);
    const r = await runSandbox([fixture('hello')], { platform, extraArgs: ['--debug-log', log], timeoutMs: TIMEOUT_MS });
    const debug = readAndRemove(log);
    expect(r.code, describeResult(r)).toBe(0);
    const m = /limits: memory [\d.]+ [KMGT]iB \((\d+) bytes\), pids 4096/.exec(debug);
    expect(m, debug).not.toBeNull();
    const memTotal = Number(/MemTotal:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
    expect(Number(m![1])).toBeLessThanOrEqual(memTotal / 2);
  });
});

describe('limit options', () => {
  it.each([['--memory', 'lots'], ['--memory', '1'], ['--pids', '0'], ['--pids', '-3']])(
    '%s %s is a user error (125)', (opt, value) => {
      const r = spawnSync(process.execPath, [cli, 'run', opt, value, '--', fixture('hello')], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(125);
      expect(r.stderr).toMatch(new RegExp(`^tsvisor: ${opt}`));
    });

  it('sizes take binary suffixes', () => {
    const log = debugLogPath('suffix');
    execFileSync(process.execPath, [cli, 'run', '--memory', '1.5G', '--pids', 'max', '--debug-log', log, '--', fixture('hello')]);
    expect(readAndRemove(log)).toContain('limits: memory 1.5 GiB (1610612736 bytes), pids max');
  });
});
