// Start-up, alternated: `node benches/startup.mjs [--runs N] [--other DIR] [--rss] [PROG...]`.
// Each round runs, in turn, `node -e 0`, this checkout's tsvisor, the tsvisor checkout at
// --other DIR (e.g. /work/main, only its bin is run) and runsc, each on PROG (default
// /bin/true); the medians of the wall times (spawn to exit) and the ratios come out at the
// end, with the host's load before and after: on a shared host only ratios within one run
// mean anything. --rss: also the whole sandbox's peak resident set (sentry + stub + gofer,
// summed over the process tree from /proc every 5 ms) while PROG runs (use `sleep 1`).
// --node-flags "FLAGS": also this checkout's tsvisor run by node with those flags (from a copy
// with code caches of its own: V8 refuses a cache made under other flags).

import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const here = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);
let runs = 9, other = null, rss = false, nodeFlags = [];
const prog = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs') runs = Number(args[++i]);
  else if (args[i] === '--other') other = args[++i];
  else if (args[i] === '--rss') rss = true;
  else if (args[i] === '--node-flags') nodeFlags = args[++i].split(' ').filter(Boolean);
  else prog.push(args[i]);
}
if (prog.length === 0) prog.push('/bin/true');

function which(cmd) {
  try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); return true; } catch { return false; }
}

const runners = [{ name: 'node -e 0', cmd: [process.execPath, '-e', '0'] }];
runners.push({ name: 'tsvisor (here)', cmd: [process.execPath, path.join(here, 'bin/tsvisor.js'), 'run', '--', ...prog] });
/** A copy of this checkout's bin and bundle with caches of their own (build/ and node_modules
 *  linked): V8 refuses a code cache made under other flags, so runs with --node-flags sharing
 *  this checkout's caches would rewrite them at every turn and both rows would compile anew. */
function ownCachesCopy() {
  const pkg = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-flags-'));
  fs.mkdirSync(path.join(pkg, 'bin'));
  fs.mkdirSync(path.join(pkg, 'dist', 'cli'), { recursive: true });
  fs.copyFileSync(path.join(here, 'bin', 'tsvisor.js'), path.join(pkg, 'bin', 'tsvisor.js'));
  for (const f of fs.readdirSync(path.join(here, 'dist'))) {
    if (/^tsvisor\.\w+\.js$/.test(f)) fs.copyFileSync(path.join(here, 'dist', f), path.join(pkg, 'dist', f));
  }
  fs.writeFileSync(path.join(pkg, 'dist', 'cli', 'main.js'), '');
  fs.utimesSync(path.join(pkg, 'dist', 'cli', 'main.js'), new Date(0), new Date(0));
  fs.symlinkSync(path.join(here, 'build'), path.join(pkg, 'build'));
  fs.symlinkSync(path.join(here, 'node_modules'), path.join(pkg, 'node_modules'));
  process.on('exit', () => fs.rmSync(pkg, { recursive: true, force: true }));
  return pkg;
}
if (nodeFlags.length) {
  const copy = ownCachesCopy();
  runners.push({ name: `tsvisor (here) ${nodeFlags.join(' ')}`, cmd: [process.execPath, ...nodeFlags, path.join(copy, 'bin/tsvisor.js'), 'run', '--', ...prog] });
}
if (other) runners.push({ name: `tsvisor (${other})`, cmd: [process.execPath, path.join(other, 'bin/tsvisor.js'), 'run', '--', ...prog] });
if (which('runsc')) runners.push({ name: 'runsc ptrace', cmd: ['runsc', '--platform=ptrace', '--network=none', '--ignore-cgroups', 'do', ...prog] });

/** Resident set of pid and all its descendants, in KiB (0 once gone); skipRoot: without pid
 *  itself (the time(1) wrapper). */
function treeRssKiB(pid, skipRoot) {
  const children = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(d));
    } catch { /* gone */ }
  }
  let total = 0;
  const todo = [[pid, '']];
  while (todo.length) {
    const [p, parentName] = todo.pop();
    let name = '';
    try {
      const status = fs.readFileSync(`/proc/${p}/status`, 'latin1');
      name = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '';
      const m = /VmRSS:\s+(\d+)/.exec(status);
      // A child between its (v)fork and its exec still shows its parent's memory (and name):
      // not counted.
      if (m && name !== parentName && !(skipRoot && p === pid)) total += Number(m[1]);
    } catch { /* gone */ }
    for (const c of children.get(p) ?? []) todo.push([c, name]);
  }
  return total;
}

// CPU time (user + system of the command and the children it waited for) moves less with the
// host's load than wall time does: /usr/bin/time reports it where installed.
const timeBin = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const cpuFile = path.join(os.tmpdir(), `tsvisor-startup-cpu-${process.pid}`);

function runOnce(cmd) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const argv = timeBin ? [timeBin, '-f', '%U %S', '-o', cpuFile, ...cmd] : cmd;
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    let peak = 0;
    const timer = rss ? setInterval(() => { peak = Math.max(peak, treeRssKiB(child.pid, timeBin !== null)); }, 5) : null;
    child.on('exit', (code, sig) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (timer) clearInterval(timer);
      let cpu = NaN;
      try { cpu = fs.readFileSync(cpuFile, 'latin1').trim().split(/\s+/).slice(-2).reduce((a, x) => a + Number(x) * 1000, 0); } catch { /* no time(1) */ }
      resolve({ ms, cpu, peak, ok: code === 0 && sig === null, err });
    });
  });
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');

const loadBefore = load();
const times = runners.map(() => []);
const peaks = runners.map(() => []);
const cpus = runners.map(() => []);
for (const r of runners) await runOnce(r.cmd); // warm-up: page cache, code caches
for (let i = 0; i < runs; i++) {
  for (let j = 0; j < runners.length; j++) {
    const res = await runOnce(runners[j].cmd);
    if (!res.ok) console.log(`note: ${runners[j].name} failed: ${res.err.trim().split('\n').pop() ?? ''}`);
    times[j].push(res.ms);
    peaks[j].push(res.peak);
    cpus[j].push(res.cpu);
  }
}
console.log(`${prog.join(' ')}: median of ${runs} alternated runs; load ${loadBefore} before, ${load()} after`);
const base = median(times[0]);
for (let j = 0; j < runners.length; j++) {
  const m = median(times[j]);
  const min = Math.min(...times[j]);
  const extra = j === 0 ? '' : `  node + ${(m - base).toFixed(1)} ms`;
  const cpu = timeBin ? `  cpu ${median(cpus[j]).toFixed(0)} ms` : '';
  const mem = rss ? `  peak RSS ${(median(peaks[j]) / 1024).toFixed(1)} MiB` : '';
  console.log(`${runners[j].name.padEnd(28)} ${m.toFixed(1).padStart(7)} ms (min ${min.toFixed(1)})${extra}${cpu}${mem}`);
}
