#!/usr/bin/env node
// npm run bench -- --programs (or node benches/programs.mjs): real programs as a user runs
// them, wall time from spawn to exit, natively and in each sandbox, with the ratio to native:
// find over /usr, tar of a tree into a pipe, cat of a 64 MiB file into a pipe, gcc of hello.c,
// a python3 script (sqlite, json, re: benches/programs/work.py) and sha256sum of the file.
// Each figure is the median of --runs N (default 3) runs, the runners alternated within each
// round; every run's output must equal the native one (a sandbox that answers fast but wrong
// gets "WRONG" instead of a time).
// Options: --runs N, --ptrace (add tsvisor's ptrace platform), --before DIR (add the tsvisor
// of another checkout, e.g. /work/main), --only NAME[,NAME] (a subset of the rows).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const optArg = (name) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : undefined;
};
const runs = Number(optArg('--runs') ?? 3);
const before = optArg('--before');
const only = optArg('--only')?.split(',');
const cli = path.join(root, 'bin', 'tsvisor.js');

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

// Inputs: a 64 MiB file of varied bytes (sha256sum must do real work), in a temp dir the
// sandboxes see (the root is the host's, read-only through the gofer).
const dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-programs-'));
const big = path.join(dir, 'big');
{
  const b = Buffer.alloc(64 << 20);
  let x = 2463534242;
  for (let i = 0; i < b.length; i += 4) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b.writeUInt32LE(x, i);
  }
  writeFileSync(big, b);
}
const python = ['/usr/bin/python3', which('python3')].find((p) => p && existsSync(p));
const out = (name) => path.join(dir, name); // natively; inside a sandbox it lands in the overlay

const programs = [
  { name: 'find /usr -name *.so*', argv: ['sh', '-c', "find /usr -name '*.so*' | wc -l"] },
  { name: 'tar of /usr/include/linux | wc -c', argv: ['sh', '-c', 'tar -cf - -C /usr/include linux | wc -c'] },
  { name: 'cat 64 MiB | wc -c', argv: ['sh', '-c', `cat ${big} | wc -c`] },
  { name: 'gcc hello.c', argv: ['sh', '-c', `gcc -O1 -o ${out('hello')} ${path.join(root, 'benches', 'programs', 'hello.c')} && ${out('hello')}`] },
  python
    ? { name: 'python3 work.py', argv: [python, path.join(root, 'benches', 'programs', 'work.py')] }
    : { name: 'python3 work.py', missing: 'python3 not installed' },
  { name: 'sha256sum 64 MiB', argv: ['sha256sum', big] },
].filter((p) => !only || only.some((o) => p.name.startsWith(o)));

const runners = [{ name: 'native', prefix: [] }];
runners.push({ name: 'tsvisor-systrap', prefix: [process.execPath, cli, 'run', '--platform=systrap', '--'] });
if (args.includes('--ptrace')) runners.push({ name: 'tsvisor-ptrace', prefix: [process.execPath, cli, 'run', '--platform=ptrace', '--'] });
if (before) runners.push({ name: 'before', prefix: [process.execPath, path.join(path.resolve(before), 'bin', 'tsvisor.js'), 'run', '--'] });
if (which('runsc')) runners.push({ name: 'runsc-ptrace', prefix: ['runsc', '--platform=ptrace', '--network=none', '--ignore-cgroups', 'do'] });
else console.log('note: runsc not installed, left out');

function runOnce(argv) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', (e) => resolve({ code: -1, stdout, stderr: String(e), ms: NaN }));
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const table = [['program', ...runners.map((r) => (r.name === 'native' ? 'native' : `${r.name} (x native)`))]];
const load = () => spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).stdout.split(' ')[0];
const loadAtStart = load();
for (const p of programs) {
  const row = [p.name];
  if (p.missing) {
    table.push([...row, ...runners.map(() => `- (${p.missing})`)]);
    continue;
  }
  let expected = null;
  let base = null;
  // Runners alternate within each round (native first): on a shared host the load moves, and
  // every runner then sees the same phases of it.
  const times = runners.map(() => []);
  const bad = runners.map(() => null);
  for (let i = 0; i < runs; i++) {
    for (let j = 0; j < runners.length; j++) {
      if (bad[j]) continue;
      const res = await runOnce([...runners[j].prefix, ...p.argv]);
      if (res.code !== 0) { bad[j] = `FAIL (${res.code}): ${res.stderr.trim().split('\n').pop() ?? ''}`; continue; }
      if (expected === null) expected = res.stdout;
      else if (res.stdout !== expected) { bad[j] = 'WRONG'; continue; }
      times[j].push(res.ms);
    }
  }
  for (let j = 0; j < runners.length; j++) {
    const r = runners[j];
    if (bad[j]) {
      row.push(bad[j].slice(0, 60));
      continue;
    }
    const m = median(times[j]);
    if (r.name === 'native') {
      base = m;
      row.push(`${m.toFixed(0)} ms`);
    } else {
      row.push(`${m.toFixed(0)} ms (${(m / base).toFixed(1)}x)`);
    }
  }
  table.push(row);
}
rmSync(dir, { recursive: true, force: true });

const widths = table[0].map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
console.log(`real programs: wall time, median of ${runs} runs; host load ${loadAtStart} at start, ${load()} at end`);
for (const r of table) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
