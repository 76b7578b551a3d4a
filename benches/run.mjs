#!/usr/bin/env node
// npm run bench: native vs tsvisor (systrap, ptrace) vs runsc (gVisor, ptrace platform), in one run.
//   getppid   ns per raw getppid(2) round trip (benches/getppid.c, N calls in one process)
//   getppid, 2 app filters   the same under two stacked 85-instruction application seccomp
//             filters (benches/seccomp_getppid.c): what the sentry's BPF interpreter costs
//   clock_gettime   ns per clock_gettime(CLOCK_MONOTONIC) through libc, i.e. the vDSO
//             (benches/clock_gettime.c): no trap where the vDSO reads the clock itself
//   open-read-close, fork-exit-wait   benches/open_read_close.c, benches/fork_wait.c
//   pipe ping-pong   round trip of one byte between two processes over two pipes
//             (benches/pipe_pingpong.c): two blocked reads woken per round trip
//   startup   median wall time of running benches/nop.c (exits at once), spawn to exit
// Prints a table with each sandbox's ratio to native and how much faster tsvisor-systrap is
// than runsc.
//
// Options: --iterations N (getppid calls, default 200000: past the JIT's warm-up), --runs N (startup runs, default 10),
//          --compare: run ../shared/bench/compare.sh (the wider shared micro-benchmark set)
//          with tsvisor, runsc and proot side by side instead.
//          --fs: the file-system set instead (benches/fs.mjs: stat, open-read-close, 64 MiB
//          read/write on the root and on a --volume, find /usr; --before DIR compares a checkout).
//          --contention: run ../shared/bench/contention.sh (several sandboxes at once on the same
//          cores, getppid) for tsvisor systrap and ptrace and runsc: where a hand-off that spins
//          while its peer cannot run shows.
//          --programs: only the real-program set (benches/programs.mjs: find, tar, cat into a
//          pipe, gcc, python3, sha256sum; its own options follow), which the default run
//          prints after its table unless --no-programs.
//          --kvm-guest: only the kvm rows (benches/kvm.mjs), inside the QEMU TCG guest of
//          ../shared/kvm/guest-run.sh (labelled: functional only). Without it the kvm rows
//          follow the table, or say why kvm is absent here.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? Number(args[i + 1]) : dflt;
};
const iterations = opt('--iterations', 200000);
const runs = opt('--runs', 10);
const tsvisorCli = path.join(root, 'bin', 'tsvisor.js');
const runscPrefix = ['runsc', '--platform=ptrace', '--network=none', '--ignore-cgroups', 'do'];

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

if (args.includes('--fs')) {
  // The file-system set (root and --volume through the gofer): benches/fs.mjs.
  const r = spawnSync(process.execPath, [path.join(root, 'benches', 'fs.mjs'), ...args.filter((a) => a !== '--fs')], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

/** Run one of ../shared/bench's scripts with both tsvisor platforms, runsc and (optionally) proot. */
function runSharedScript(name, { proot }) {
  const script = path.resolve(root, '..', 'shared', 'bench', name);
  if (!existsSync(script)) {
    console.error(`bench: ${script} not found`);
    process.exit(2);
  }
  const sandboxes = [`tsvisor-systrap=${process.execPath} ${tsvisorCli} run --platform=systrap --`, `tsvisor-ptrace=${process.execPath} ${tsvisorCli} run --platform=ptrace --`];
  if (which('runsc')) sandboxes.push(`runsc-ptrace=${runscPrefix.join(' ')}`);
  else console.log('note: runsc not installed, left out');
  if (proot && which('proot')) sandboxes.push('proot=proot');
  const r = spawnSync('bash', [script, ...sandboxes], { cwd: root, stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

if (args.includes('--kvm-guest')) {
  const r = spawnSync(process.execPath, [path.join(root, 'benches', 'kvm.mjs'), '--guest'], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

if (args.includes('--compare')) runSharedScript('compare.sh', { proot: true });

function runPrograms(extra) {
  const r = spawnSync(process.execPath, [path.join(root, 'benches', 'programs.mjs'), ...extra], { stdio: 'inherit' });
  return r.status ?? 1;
}
if (args.includes('--programs')) process.exit(runPrograms(args.filter((a) => a !== '--programs')));
if (args.includes('--contention')) runSharedScript('contention.sh', { proot: false });

// Build the benchmark programs (gcc -O2 -static) into a temp dir, when stale.
const binDir = path.join(tmpdir(), 'tsvisor-benches');
mkdirSync(binDir, { recursive: true });
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : -1);
function build(name) {
  const src = path.join(root, 'benches', `${name}.c`);
  const out = path.join(binDir, name);
  if (mtime(out) < mtime(src)) execFileSync('gcc', ['-O2', '-static', '-o', out, src], { stdio: 'inherit' });
  return out;
}
const getppid = build('getppid');
const seccompGetppid = build('seccomp_getppid');
const clockGettime = build('clock_gettime');
const openReadClose = build('open_read_close');
const forkWait = build('fork_wait');
const pingpong = build('pipe_pingpong');
const nop = build('nop');

// The runners: a command prefix each, or the reason it is left out.
const runners = [{ name: 'native', prefix: [] }];
if (existsSync(path.join(root, 'build', 'tsvisor.node')) && existsSync(path.join(root, 'dist', 'cli', 'main.js'))) {
  for (const p of ['systrap', 'ptrace']) {
    runners.push({ name: `tsvisor-${p}`, prefix: [process.execPath, tsvisorCli, 'run', `--platform=${p}`, '--'] });
  }
} else {
  console.log('note: tsvisor is not built (build/tsvisor.node, dist/cli/main.js): run npm install; left out');
}
if (which('runsc')) {
  if (process.getuid && process.getuid() !== 0) console.log('note: runsc do usually needs root; it may fail');
  runners.push({ name: 'runsc', prefix: runscPrefix });
} else {
  console.log('note: runsc not installed (Debian package runsc), left out');
}

function runOnce(argv) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    child.on('error', (e) => resolve({ code: -1, out, err: String(e), ms: NaN }));
    child.on('close', (code) => resolve({ code, out, err, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const results = {};
for (const r of runners) {
  results[r.name] = {};
  // In-process loops: each program reports its own figure.
  for (const [key, argv, re] of [
    ['getppid', [getppid, String(iterations)], /getppid (\d+(?:\.\d+)?) ns\/op/],
    ['seccomp', [seccompGetppid, String(iterations)], /seccomp-getppid (\d+(?:\.\d+)?) ns\/op/],
    ['clock', [clockGettime, String(iterations * 5)], /clock_gettime (\d+(?:\.\d+)?) ns\/op/],
    ['orc', [openReadClose, String(Math.max(1, Math.floor(iterations / 4)))], /open-read-close (\d+(?:\.\d+)?) ns\/op/],
    ['fork', [forkWait, '200'], /fork-exit-wait (\d+(?:\.\d+)?) us\/op/],
    ['pingpong', [pingpong, '5000'], /pipe-pingpong (\d+(?:\.\d+)?) us\/round-trip/],
  ]) {
    const g = await runOnce([...r.prefix, ...argv]);
    const m = re.exec(g.out);
    if (g.code === 0 && m) results[r.name][key] = Number(m[1]);
    else console.log(`note: ${r.name} ${key} failed (status ${g.code}): ${(g.err || g.out).trim().split('\n').pop() ?? ''}`);
  }
  // startup: one warm-up run, then the median of `runs` wall times.
  await runOnce([...r.prefix, nop]);
  const times = [];
  let failed = null;
  for (let i = 0; i < runs; i++) {
    const s = await runOnce([...r.prefix, nop]);
    if (s.code !== 0) {
      failed = s;
      break;
    }
    times.push(s.ms);
  }
  if (failed) console.log(`note: ${r.name} startup failed (status ${failed.code}): ${(failed.err || failed.out).trim().split('\n').pop() ?? ''}`);
  else results[r.name].startup = median(times);
}

const rows = [
  { key: 'getppid', label: 'getppid', unit: 'ns/op', fmt: (v) => v.toFixed(0) },
  { key: 'seccomp', label: 'getppid, 2 app filters', unit: 'ns/op', fmt: (v) => v.toFixed(0) },
  { key: 'clock', label: 'clock_gettime (vDSO)', unit: 'ns/op', fmt: (v) => v.toFixed(1) },
  { key: 'orc', label: 'open-read-close', unit: 'ns/op', fmt: (v) => v.toFixed(0) },
  { key: 'fork', label: 'fork-exit-wait', unit: 'us/op', fmt: (v) => v.toFixed(1) },
  { key: 'pingpong', label: 'pipe ping-pong', unit: 'us/round trip', fmt: (v) => v.toFixed(1) },
  { key: 'startup', label: 'startup (nop)', unit: 'ms', fmt: (v) => v.toFixed(1) },
];
const names = runners.map((r) => r.name);
const haveBoth = names.includes('tsvisor-systrap') && names.includes('runsc');
const head = ['benchmark', ...names.map((n) => (n === 'native' ? 'native' : `${n} (x native)`))];
if (haveBoth) head.push('runsc / tsvisor-systrap');
const table = [head];
for (const row of rows) {
  const base = results.native?.[row.key];
  const cells = [row.label];
  for (const n of names) {
    const v = results[n]?.[row.key];
    if (v === undefined) cells.push('FAIL');
    else if (n === 'native' || base === undefined) cells.push(`${row.fmt(v)} ${row.unit}`);
    else cells.push(`${row.fmt(v)} ${row.unit} (${(v / base).toFixed(1)}x)`);
  }
  if (haveBoth) {
    const t = results['tsvisor-systrap']?.[row.key];
    const g = results.runsc?.[row.key];
    cells.push(t !== undefined && g !== undefined ? `${(g / t).toFixed(2)}x faster` : '-');
  }
  table.push(cells);
}
const widths = head.map((_, i) => Math.max(...table.map((r) => r[i].length)));
console.log(`getppid: ${iterations} calls in one process; startup: median of ${runs} runs after one warm-up`);
for (const r of table) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
if (!args.includes('--no-programs')) {
  console.log('');
  runPrograms([]);
}

// The kvm rows: kvm vs systrap vs native, or why kvm is absent here (benches/kvm.mjs).
spawnSync(process.execPath, [path.join(root, 'benches', 'kvm.mjs'), '--iterations', String(iterations)], { stdio: 'inherit' });
