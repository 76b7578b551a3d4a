// Start-up: what runs before the program's first instruction. TSVISOR_TRACE_STARTUP=1 prints
// each step in order (and nothing without it); the node modules a run loads leave out those
// only rare paths need (the bin's lazy built-ins); the code cache comes from a run that started
// a sandbox; a bad option of `run` is a usage error.
// Timings are benchmarks (benches/startup.mjs), never asserted here.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, fixture, platforms, repoRoot, TIME_SCALE } from '../helpers/run';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-startup-'));
  // Preloaded into the sentry: at exit, stderr gets the built-in modules node loaded.
  writeFileSync(path.join(dir, 'modules.js'), [
    "process.on('exit', () => {",
    "  const mods = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13));",
    "  require('node:fs').writeSync(2, `modules: ${mods.join(' ')}\\n`);",
    '});',
  ].join('\n'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function run(nodeArgs: string[], args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, cli, ...args], {
      env: { ...process.env, TSVISOR_TRACE_STARTUP: undefined, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const STEPS = ['node started', 'sentry loaded', 'runSandbox', 'gofer spawned', 'memory file', 'platform chosen',
  'kernel', 'network', 'gofer serving', 'root mounted', 'program found', 'address space', 'first context',
  'executable loaded', 'task ready', 'program exited', 'sandbox released'];

describe.each(platforms)('%s', (platform) => {
  it('TSVISOR_TRACE_STARTUP=1 prints every start-up step once, in order, and the program runs as usual', async () => {
    const hello = fixture('hello');
    const traced = await run([], ['run', '--platform', platform, '--', hello], { TSVISOR_TRACE_STARTUP: '1' });
    const plain = await run([], ['run', '--platform', platform, '--', hello]);
    expect(traced.code, traced.stderr).toBe(plain.code);
    expect(traced.stdout).toBe(plain.stdout);
    expect(plain.stderr).not.toContain('tsvisor-startup');
    const lines = traced.stderr.split('\n').filter((l) => l.startsWith('tsvisor-startup: '));
    const steps = lines.map((l) => /ms {2}\+ *[\d.]+ ms {2}(.*)$/.exec(l)?.[1].replace(/^memory at the first instruction: .*/, 'memory'));
    expect(steps).toEqual([...STEPS.slice(0, STEPS.indexOf('task ready') + 1), 'memory', ...STEPS.slice(STEPS.indexOf('program exited'))]);
    const at = lines.map((l) => Number(/^tsvisor-startup: +([\d.]+) ms/.exec(l)?.[1]));
    for (let i = 1; i < at.length; i++) expect(at[i]).toBeGreaterThanOrEqual(at[i - 1]);
    expect(traced.stderr).toMatch(/memory at the first instruction: rss [\d.]+ heap [\d.]+\/[\d.]+ external/);
  }, 60_000 * TIME_SCALE);

  it('a --memory too small for the sandbox to start ends it as the OOM kill would (137), with why', async () => {
    // Main's sentry died of the stub's ENOMEM with a stack trace (exit 125) at some sizes.
    for (const size of ['4K', '10K']) {
      const r = await run([], ['run', '--platform', platform, '--memory', size, '--', fixture('hello')]);
      expect(r.code, `${size}: ${r.stderr}`).toBe(137);
      expect(r.stderr).toMatch(/^tsvisor: \S+: out of memory (before it started|while loading it) \(--memory /);
      expect(r.stderr).not.toMatch(/\n +at /);
    }
  }, 60_000 * TIME_SCALE);

  it('a run loads neither child_process, the module loader, net, dgram, crypto nor perf_hooks (their built-ins stay lazy)', async () => {
    const r = await run(['-r', path.join(dir, 'modules.js')], ['run', '--platform', platform, '--', fixture('hello')]);
    expect(r.code, r.stderr).toBe(0);
    const mods = /modules: (.*)/.exec(r.stderr)?.[1].split(' ') ?? [];
    // The list is real (the check can fail): the sentry's own built-ins are in it.
    expect(mods).toContain('vm');
    expect(mods).not.toContain('child_process');
    expect(mods).not.toContain('module');
    // The NAT's host sockets: only a host flow, a DNS query or --publish needs them.
    expect(mods).not.toContain('net');
    expect(mods).not.toContain('dgram');
    // TCP's keyed ISNs need crypto only at the first connection; `performance` is the bin's
    // stand-in (scripts/bundle.mjs), not node's global that loads perf_hooks.
    expect(mods).not.toContain('crypto');
    expect(mods).not.toContain('perf_hooks');
  }, 60_000 * TIME_SCALE);
});

/** A copy of the package whose bundle (and so caches) is its own; build/ and node_modules
 *  shared. without: chunks of the bundle left out. */
function packageCopy(name: string, without: string[] = []): { bin: string; distDir: string } {
  const pkg = path.join(dir, name);
  mkdirSync(path.join(pkg, 'bin'), { recursive: true });
  mkdirSync(path.join(pkg, 'dist', 'cli'), { recursive: true });
  copyFileSync(cli, path.join(pkg, 'bin', 'tsvisor.js'));
  const files = readdirSync(path.join(repoRoot, 'dist')).filter((f) => /^tsvisor\.[\w]+\.js$/.test(f));
  // The main file and at least the chunks of scripts/bundle.mjs (cli, strace, rare).
  expect(files).toEqual(expect.arrayContaining(['tsvisor.bundle.js', 'tsvisor.cli.js', 'tsvisor.strace.js', 'tsvisor.rare.js']));
  for (const f of files) if (!without.includes(f)) copyFileSync(path.join(repoRoot, 'dist', f), path.join(pkg, 'dist', f));
  // The bundle must not look older than the modules, or the bin loads those instead.
  writeFileSync(path.join(pkg, 'dist', 'cli', 'main.js'), '');
  utimesSync(path.join(pkg, 'dist', 'cli', 'main.js'), new Date(0), new Date(0));
  symlinkSync(path.join(repoRoot, 'build'), path.join(pkg, 'build'));
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(pkg, 'node_modules'));
  return { bin: path.join(pkg, 'bin', 'tsvisor.js'), distDir: path.join(pkg, 'dist') };
}

function runBin(bin: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('code cache', () => {
  it('one written by a run without a sandbox is replaced by the next run with one, kept after, and written again grown by a long run that compiled more', async () => {
    const { bin, distDir } = packageCopy('pkg');
    const cacheFile = path.join(distDir, 'tsvisor.bundle.js.cache');
    const stamp = (): string => readFileSync(cacheFile).subarray(0, 64).toString('latin1').trim();
    const node = (args: string[]) => runBin(bin, args);
    expect((await node(['--version'])).code).toBe(0);
    expect(stamp()).toMatch(/ cli 0$/);
    const cliSize = readFileSync(cacheFile).length;
    const r = await node(['run', '--', fixture('hello')]);
    expect(r.code, r.stderr).toBe(0);
    expect(stamp()).toMatch(/ run 0$/);
    // It holds the sandbox's functions too.
    const runSize = readFileSync(cacheFile).length;
    expect(runSize).toBeGreaterThan(cliSize);
    expect((await node(['--version'])).code).toBe(0);
    expect(stamp()).toMatch(/ run 0$/);
    // A short run that compiles nothing new leaves it as it is.
    expect((await node(['run', '--', fixture('hello')])).code).toBe(0);
    expect(stamp()).toMatch(/ run 0$/);
    expect(readFileSync(cacheFile).length).toBe(runSize);
    // A long one that compiled more (fork, exec, wait, pipes) writes it again, grown.
    const sh = await node(['run', '--', '/bin/sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do /bin/true | cat; done']);
    expect(sh.code, sh.stderr).toBe(0);
    expect(stamp()).toMatch(/ run 1$/);
    expect(readFileSync(cacheFile).length).toBeGreaterThan(runSize * 1.02);
  }, 120_000 * TIME_SCALE);
});

describe('bundle chunks (scripts/bundle.mjs)', () => {
  it('a chunk loads when first used, not before: commander for --version, strace at --strace, the rare syscalls at their first call', async () => {
    const { bin, distDir } = packageCopy('chunks');
    // A chunk that ran once leaves its own code cache beside it: the sign that it was loaded.
    const loaded = (name: string): boolean => existsSync(path.join(distDir, `tsvisor.${name}.js.cache`));
    const plain = await runBin(bin, ['run', '--', fixture('hello')]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(existsSync(path.join(distDir, 'tsvisor.bundle.js.cache'))).toBe(true);
    expect(loaded('strace')).toBe(false);
    expect(loaded('rare')).toBe(false);
    // The i386 ABI's table (compat32): only int 0x80 needs it.
    expect(loaded('compat32')).toBe(false);
    // A plain `run` is read without commander (ts/cli/fast_argv.ts); --version needs it.
    expect(loaded('cli')).toBe(false);
    const version = await runBin(bin, ['--version']);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout).toBe('0.1.0\n');
    expect(loaded('cli')).toBe(true);
    const traced = await runBin(bin, ['run', '--strace', '--', fixture('hello')]);
    expect(traced.code, traced.stderr).toBe(0);
    expect(traced.stderr).toMatch(/^\[ *\d+\] write\(1\b.*"hello, world\\n"/m);
    expect(loaded('strace')).toBe(true);
    expect(loaded('rare')).toBe(false);
    // SysV message queues are among the rare areas.
    const native = await runBin(bin, ['run', '--', fixture('sysv_msg')]);
    expect(native.code, native.stderr).toBe(0);
    expect(native.stdout).toContain('same: 1');
    expect(loaded('rare')).toBe(true);
    // Loaded from its cache the next time, with the same result.
    const again = await runBin(bin, ['run', '--strace', '--', fixture('sysv_msg')]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/^\[ *\d+\] msgget\(/m);
  }, 120_000 * TIME_SCALE);

  it('a missing chunk stops the start with why (125), before the program runs', async () => {
    const { bin } = packageCopy('nochunk', ['tsvisor.strace.js']);
    const r = await runBin(bin, ['run', '--', fixture('hello')]);
    expect(r.code).toBe(125);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^tsvisor: \S+tsvisor\.strace\.js \(the sentry's strace part\) is missing: the build is incomplete, run npm run build:ts\n$/);
  }, 60_000 * TIME_SCALE);
});

describe('cli', () => {
  it('an unknown option of run is a usage error (125), as the others are', async () => {
    const r = await run([], ['run', '--no-such-option', '--', '/bin/true']);
    expect(r.code, r.stderr).toBe(125);
    expect(r.stderr).toContain("unknown option '--no-such-option'");
  }, 60_000 * TIME_SCALE);
});
