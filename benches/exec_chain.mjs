#!/usr/bin/env node
// Exec chains, alternated: `node benches/exec_chain.mjs [--runs N] [--count N] [--before DIR]`.
// A static program (benches/exec_loop.c, gcc -static) forks and execs, --count times (default
// 200), a static program (itself, as `true`) and a dynamic one (/bin/true); each round runs,
// in turn, natively, this checkout's tsvisor and the tsvisor checkout at --before DIR (e.g.
// /work/main: only its bin is run). Reported: the medians of wall time per exec and of the
// CPU time (user+sys of the whole tree: sentry, stubs, gofer) per exec, with the host's load
// before and after — on a shared host only ratios within one run mean anything.

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const runs = Number(opt('--runs', 5));
const count = Number(opt('--count', 200));
const before = opt('--before', null);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-exec-chain-'));
const loop = path.join(dir, 'exec_loop');
execFileSync('gcc', ['-O1', '-static', '-o', loop, path.join(root, 'benches', 'exec_loop.c')], { stdio: 'inherit' });
const strue = path.join(dir, 'true');
fs.writeFileSync(path.join(dir, 'true.c'), 'int main(void) { return 0; }\n');
execFileSync('gcc', ['-O1', '-static', '-o', strue, path.join(dir, 'true.c')], { stdio: 'inherit' });

const runners = [
  { name: 'native', prefix: [] },
  { name: 'tsvisor', prefix: [process.execPath, path.join(root, 'bin', 'tsvisor.js'), 'run', '--'] },
];
if (before) runners.push({ name: 'before', prefix: [process.execPath, path.join(path.resolve(before), 'bin', 'tsvisor.js'), 'run', '--'] });
const rows = [{ name: 'static true', prog: strue }, { name: 'dynamic /bin/true', prog: '/bin/true' }];

/** One run under /usr/bin/time's rusage: [wall ms per exec, cpu ms per exec]. */
function once(runner, prog) {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'CPU %U %S', ...runner.prefix, loop, String(count), prog], { encoding: 'utf8' });
  const wall = performance.now() - t0;
  const m = /CPU ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (r.status !== 0 || m === null) throw new Error(`${runner.name} ${prog}: status ${r.status}\n${r.stderr}`);
  return [wall / count, (Number(m[1]) + Number(m[2])) * 1000 / count];
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const loadBefore = os.loadavg()[0];
const results = new Map();
for (let i = 0; i < runs; i++) {
  for (const row of rows) {
    for (const runner of runners) {
      const key = `${row.name}|${runner.name}`;
      if (!results.has(key)) results.set(key, []);
      results.get(key).push(once(runner, row.prog));
    }
  }
}
console.log(`exec chains: ${count} fork+exec+wait per run, median of ${runs}; load ${loadBefore.toFixed(2)} at start, ${os.loadavg()[0].toFixed(2)} at end`);
console.log(`${'program'.padEnd(20)}${runners.map((r) => `${r.name} ms/exec (cpu)`.padStart(26)).join('')}`);
for (const row of rows) {
  const cells = runners.map((runner) => {
    const xs = results.get(`${row.name}|${runner.name}`);
    return `${median(xs.map((x) => x[0])).toFixed(2)} (${median(xs.map((x) => x[1])).toFixed(2)})`.padStart(26);
  });
  console.log(`${row.name.padEnd(20)}${cells.join('')}`);
}
fs.rmSync(dir, { recursive: true, force: true });
