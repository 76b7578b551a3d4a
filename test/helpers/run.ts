// Helpers for the sandbox tests: run a program inside tsvisor or natively, collect its output.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants as osConstants, tmpdir } from 'node:os';
import { expect } from 'vitest';
import { detectPlatforms, warnLeftOut } from './platforms';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
/** The CLI under test; TSVISOR_CLI overrides it (to check the tests against another runner). */
export const cli = process.env.TSVISOR_CLI ?? path.join(repoRoot, 'bin', 'tsvisor.js');

/** Platforms every sandbox suite runs on: TSVISOR_PLATFORMS=systrap,ptrace,kvm, by default
 *  every platform that works on this host (the global setup finds them once and says why any
 *  is left out; a run without that setup asks here). */
export const platforms: string[] = (() => {
  const listed = process.env.TSVISOR_PLATFORMS ?? process.env.TSVISOR_DEFAULT_PLATFORMS;
  if (listed !== undefined) return listed.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  const { usable, leftOut } = detectPlatforms();
  warnLeftOut(leftOut);
  return usable;
})();

/** How much slower this machine runs the sandbox than a plain host: run timeouts are
 *  multiplied by it (npm run test:kvm sets 5 inside the QEMU guest, whose node is 10-20x slower). */
export const TIME_SCALE = Math.max(1, Number(process.env.TSVISOR_TEST_TIME_SCALE ?? '1') || 1);

export interface RunOptions {
  /** Written to the program's stdin, which is then closed. Without it stdin is empty (EOF). */
  stdin?: string | Buffer;
  /** Environment of the program. For the sandbox these are passed as `--env K=V`. */
  env?: Record<string, string>;
  /** --platform for the sandbox; ignored by runNative. */
  platform?: string;
  /** More tsvisor options, placed before `--`; ignored by runNative. */
  extraArgs?: string[];
  /** Working directory of the native run (the sandbox uses --cwd in extraArgs). */
  cwd?: string;
  /** Kill the run after this many ms (default 50 s, below the test timeout). */
  timeoutMs?: number;
}

export interface RunResult {
  /** Exit status, or null when killed by a signal. */
  code: number | null;
  /** Name of the signal that killed the process (e.g. 'SIGSEGV'), or null. */
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** pid and its descendants, found through /proc before anything is killed (once their
 *  parent dies, orphans are init's and their pipes would keep the run from ever closing). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(e));
      children.set(ppid, list);
    } catch { /* gone meanwhile */ }
  }
  const out: number[] = [];
  const walk = (p: number): void => { out.push(p); for (const c of children.get(p) ?? []) walk(c); };
  walk(pid);
  return out;
}

/** A timed-out run: SIGKILL to the program and everything it started. */
function killTree(pid: number): void {
  for (const p of processTree(pid)) {
    try { process.kill(p, 'SIGKILL'); } catch { /* already gone */ }
  }
}

/** Where each run's cost is logged, one JSON line per run (TSVISOR_TEST_RUNLOG: the KVM guest's
 *  runner sums them per file, test/kvm/run_log.mjs, to show where a file's time goes). */
const runLog = process.env.TSVISOR_TEST_RUNLOG;

async function logged(kind: 'sandbox' | 'native', program: string, run: Promise<RunResult>): Promise<RunResult> {
  if (runLog === undefined) return run;
  const startMs = Date.now();
  const state = expect.getState();
  const r = await run;
  const line = JSON.stringify({
    file: path.relative(repoRoot, state.testPath ?? ''), test: state.currentTestName ?? '', kind,
    program: path.basename(program), ms: Date.now() - startMs,
  });
  try { appendFileSync(runLog, line + '\n'); } catch { /* a lost line costs only the summary */ }
  return r;
}

function collect(
  file: string,
  args: string[],
  opts: RunOptions,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    // The program may exit without reading its stdin: ignore EPIPE there.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.stdin ?? '');
    const limit = (opts.timeoutMs ?? 50_000) * TIME_SCALE;
    const timer = setTimeout(() => {
      err.push(Buffer.from(`\n[test helper] killed after ${limit} ms\n`));
      if (child.pid !== undefined) killTree(child.pid);
      else child.kill('SIGKILL');
    }, limit);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** The environment the sandboxed program should see is exactly opts.env (passed as --env). */
export function sandboxArgs(argv: string[], opts: RunOptions = {}): string[] {
  const args = [cli, 'run'];
  if (opts.platform) args.push('--platform', opts.platform);
  for (const [k, v] of Object.entries(opts.env ?? {})) args.push('--env', `${k}=${v}`);
  args.push(...(opts.extraArgs ?? []));
  args.push('--', ...argv);
  return args;
}

/** Run argv inside tsvisor: `node bin/tsvisor.js run [--platform P] [--env K=V...] [extra] -- argv`. */
export function runSandbox(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  return logged('sandbox', argv[0] ?? '', collect(process.execPath, sandboxArgs(argv, opts), opts, process.env, repoRoot));
}

/** Run argv directly on the host, with exactly opts.env as its environment. */
export function runNative(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  return logged('native', file, collect(file, args, opts, { ...(opts.env ?? {}) }, opts.cwd ?? repoRoot));
}

/** The status a shell reports: the exit code, or 128+N for death by signal N. */
export function shellStatus(r: RunResult): number | null {
  if (r.code !== null) return r.code;
  if (r.signal) {
    const n = (osConstants.signals as Record<string, number>)[r.signal];
    if (n !== undefined) return 128 + n;
  }
  return null;
}

/** Absolute path of a compiled fixture (test/fixtures/bin/NAME, built by test/setup/global.ts). */
export function fixture(name: string): string {
  return path.join(repoRoot, 'test', 'fixtures', 'bin', name);
}

export const busybox = '/bin/busybox';
export const haveBusybox = existsSync(busybox);

/** Formats a result for assertion messages. */
export function describeResult(r: RunResult): string {
  return `code=${r.code} signal=${r.signal}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/** it.skipIf helper that never skips silently: warns with the reason when it skips. */
export function skipBecause(cond: boolean, reason: string): boolean {
  if (cond) console.warn(`[tsvisor tests] skipping: ${reason}`);
  return cond;
}

/** In CI's KVM step (test/kvm/guest_suite.mjs's own file set, where every sandbox start costs
 *  seconds of emulated CPU), a case that only repeats on kvm what the host's run of it checks
 *  (the sentry's semantics, the same on every platform) is left out — with what and why printed.
 *  `npm run test:kvm-all` and --files run everything. */
export function leftOutOfKvmCi(platform: string, why: string): boolean {
  return skipBecause(platform === 'kvm' && process.env.TSVISOR_KVM_CI_TRIM === '1', `left out of CI's KVM step: ${why}`);
}

/** The differential check: argv's stdout and exit status in the sandbox on `platform` are
 *  the native run's. */
export async function expectSameAsNative(argv: string[], platform: string, timeoutMs?: number): Promise<void> {
  const native = await runNative(argv, { timeoutMs });
  const r = await runSandbox(argv, { platform, timeoutMs });
  expect(r.stdout, describeResult(r)).toBe(native.stdout);
  expect(r.code, describeResult(r)).toBe(native.code);
}

/** A fixture that works under the directory its first argument names, run natively and in the
 *  sandbox each in a fresh one (prefix names them): the same output, with each run's directory
 *  read as DIR, and exit status 0. `asCurrent` reads the native output as a current kernel's
 *  where the host's is older (native_kernel.ts asCurrentKernel); `args` follow the directory. */
export async function expectSameAsNativeInFreshDir(
  name: string, prefix: string, platform: string, timeoutMs = 60_000, asCurrent: (nativeStdout: string) => string = (s) => s,
  args: string[] = [],
): Promise<void> {
  await withFreshDirs(prefix, async (nd, sd) => {
    const native = await runNative([fixture(name), nd, ...args], { timeoutMs });
    expect(native.code, describeResult(native)).toBe(0);
    // The sandbox's writes land in its memory overlay; the directory must exist there too.
    const r = await runSandbox([fixture(name), sd, ...args], { platform, timeoutMs });
    expect(r.stdout.replaceAll(sd, 'DIR'), describeResult(r)).toBe(asCurrent(native.stdout.replaceAll(nd, 'DIR')));
    expect(r.code).toBe(0);
  });
}

/** The same on a --volume: the fixture runs natively in a fresh host directory and in the
 *  sandbox under /v, another fresh host directory mounted there; the same output and exit
 *  status 0. hostCheck(volDir, nativeDir) then looks at what the sandbox left on the host. */
export async function expectSameAsNativeOnVolume(
  name: string, prefix: string, platform: string,
  opts: { timeoutMs?: number; hostCheck?: (volDir: string, nativeDir: string) => void | Promise<void> } = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  await withFreshDirs(prefix, async (nd, vd) => {
    const native = await runNative([fixture(name), nd], { timeoutMs });
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox([fixture(name), '/v'], { platform, timeoutMs, extraArgs: ['--volume', `${vd}:/v`] });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
    await opts.hostCheck?.(vd, nd);
  });
}

/** f(nativeDir, sandboxDir) with two fresh host directories, removed afterwards. */
async function withFreshDirs(prefix: string, f: (nd: string, sd: string) => Promise<void>): Promise<void> {
  const nd = mkdtempSync(path.join(tmpdir(), prefix)), sd = mkdtempSync(path.join(tmpdir(), prefix));
  try {
    await f(nd, sd);
  } finally {
    rmSync(nd, { recursive: true, force: true });
    rmSync(sd, { recursive: true, force: true });
  }
}
