#!/usr/bin/env node
// npm run bench -- --fs (or node benches/fs.mjs [--before DIR]): the file-system paths, native
// vs tsvisor, on the root (the host's tree through the gofer, writes into the memory overlay)
// and on a --volume (the gofer's writable tree): stat, open-read-close, 64 MiB sequential
// read and write (benches/fs.c), stats of deep paths each seen once (cold), and
// `find /usr -name '*.h'` wall time. --before DIR adds the
// tsvisor of another checkout (e.g. /work/main) as a column for before/after (repeatable; a
// checkout without --volume leaves its volume rows empty). runsc (ptrace) is a
// column when installed (--no-runsc leaves it out); --only stat,read,find picks rows.
// --repeat N (default 3): each row runs N rounds, every runner once per round in a rotating
// order (a burst of load on the host falls on all of them alike), and a cell is the median
// of its N (--spread adds [min-max]); the find row runs --find-repeat times (default 1).
// Below the table, tsvisor's ratios to native and to runsc, which the gofer's goals name: of
// the medians, and the median of each round's ratio (runs back to back, under the same load).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
// --before DIR, repeatable: each checkout is a column.
const befores = args.flatMap((a, i) => (a === '--before' && i + 1 < args.length ? [path.resolve(args[i + 1])] : []));
const platform = args.includes('--ptrace') ? 'ptrace' : 'systrap';
const noRunsc = args.includes('--no-runsc');
// --only stat,read,find: just the rows whose label contains one of these words.
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args[onlyIdx + 1].split(',') : null;
const wanted = (label) => !only || only.some((w) => label.includes(w));
const numArg = (name, dflt) => {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  if (!(Number.isInteger(v) && v >= 1)) throw new Error(`${name}: a whole number of at least 1`);
  return v;
};
const repeat = numArg('--repeat', 3);
const findRepeat = numArg('--find-repeat', 1);
const spread = args.includes('--spread');

const binDir = path.join(tmpdir(), 'tsvisor-benches');
mkdirSync(binDir, { recursive: true });
const fsBin = path.join(binDir, 'fs');
const src = path.join(root, 'benches', 'fs.c');
if (!existsSync(fsBin) || statSync(fsBin).mtimeMs < statSync(src).mtimeMs) execFileSync('gcc', ['-O2', '-static', '-o', fsBin, src]);

const data = mkdtempSync(path.join(tmpdir(), 'tsvisor-fsbench-'));
const vol = mkdtempSync(path.join(tmpdir(), 'tsvisor-fsbench-vol-'));
const big = Buffer.alloc(64 << 20, 7);
writeFileSync(path.join(data, 'big'), big);
writeFileSync(path.join(vol, 'big'), big);
writeFileSync(path.join(data, 'small'), Buffer.alloc(4096, 1));
writeFileSync(path.join(vol, 'small'), Buffer.alloc(4096, 1));
// DEEP_N chains of DEEP_DEPTH directories, a file at the end of each: stats of paths seen once.
const DEEP_N = 200, DEEP_DEPTH = 8;
for (const top of [data, vol]) {
  for (let i = 0; i < DEEP_N; i++) {
    const d = path.join(top, 'deep', String(i), ...Array.from({ length: DEEP_DEPTH }, (_, k) => String(k + 1)));
    mkdirSync(d, { recursive: true });
    writeFileSync(path.join(d, 'f'), '');
  }
}

const runners = [{ name: 'native', prefix: () => [] }];
runners.push({ name: `tsvisor-${platform}`, prefix: (v) => [process.execPath, path.join(root, 'bin', 'tsvisor.js'), 'run', `--platform=${platform}`, ...(v ? ['--volume', `${vol}:/vol`] : []), '--'] });
// runsc's gofer on the same machine (its `do` mode serves the host's root read-only under a
// memory overlay, as our root; for the volume rows it runs with the overlay off, the host tree
// served writable, the nearest thing `do` has to a bind mount).
const runsc = noRunsc ? null : ['/usr/bin/runsc', '/usr/local/bin/runsc'].find((p) => existsSync(p));
if (runsc) runners.push({ name: 'runsc-ptrace', prefix: (v) => [runsc, '--platform=ptrace', '--network=none', '--ignore-cgroups', 'do', ...(v ? ['-force-overlay=false'] : []), '--'] });
for (const before of befores) {
  // A checkout with --volume gets the volume rows too (its CLI says so in --help).
  const help = spawnSync(process.execPath, [path.join(before, 'bin', 'tsvisor.js'), 'run', '--help'], { encoding: 'utf8' }).stdout ?? '';
  const volume = help.includes('--volume');
  runners.push({
    name: `${path.basename(before)}-${platform}`, volume,
    prefix: (v) => [process.execPath, path.join(before, 'bin', 'tsvisor.js'), 'run', `--platform=${platform}`, ...(v ? ['--volume', `${vol}:/vol`] : []), '--'],
  });
}

/** Paths each runner uses: natively the volume is its host directory. */
function where(r, onVolume) {
  if (!onVolume) return { small: path.join(data, 'small'), big: path.join(data, 'big'), out: path.join(data, 'out'), deep: path.join(data, 'deep') };
  const d = r.name === 'native' || r.name.startsWith('runsc') ? vol : '/vol';
  return { small: `${d}/small`, big: `${d}/big`, out: `${d}/out`, deep: `${d}/deep` };
}

function run(argv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status, out: r.stdout ?? '', err: r.stderr ?? '', ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

/** Each runner's result of n rounds of measure(r), the runners in a rotating order per round:
 *  per runner, the values (or the first failure). */
function rounds(n, measure) {
  const got = runners.map(() => ({ values: [], fail: null }));
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < runners.length; j++) {
      const i = (j + k) % runners.length;
      if (got[i].fail !== null || got[i].skip) continue;
      const m = measure(runners[i]);
      if (m === undefined) got[i].skip = true;
      else if (typeof m === 'string') got[i].fail = m;
      else got[i].values.push(m);
    }
  }
  return got;
}

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function cell(g, unit, digits = 0) {
  if (g.skip) return '-';
  if (g.fail !== null) return `FAIL (${g.fail})`;
  const m = median(g.values);
  const range = spread && g.values.length > 1 ? ` [${Math.min(...g.values).toFixed(digits)}-${Math.max(...g.values).toFixed(digits)}]` : '';
  return `${m.toFixed(digits)} ${unit}${range}`;
}

const rows = [];
/** Per row: label, whether more is better, and the medians by runner name (for the ratios). */
const medians = [];
for (const onVolume of [false, true]) {
  for (const [label, argvOf, re, unit] of [
    ['stat', (p) => [fsBin, 'stat', p.small, '20000'], /stat (\d+) ns/, 'ns/op'],
    ['open-read-close', (p) => [fsBin, 'orc', p.small, '10000'], /orc (\d+) ns/, 'ns/op'],
    [`stat, cold deep path (${DEEP_DEPTH + 2} new components)`, (p) => [fsBin, 'deep', p.deep, String(DEEP_N), String(DEEP_DEPTH)], /deep (\d+) ns/, 'ns/op'],
    ['64 MiB read', (p) => [fsBin, 'read', p.big], /read (\d+) MB\/s/, 'MB/s'],
    ['64 MiB write', (p) => [fsBin, 'write', p.out, '64'], /write (\d+) MB\/s/, 'MB/s'],
  ]) {
    const name = `${label} (${onVolume ? 'volume' : 'root'})`;
    if (!wanted(name)) continue;
    const got = rounds(repeat, (r) => {
      if (onVolume && r.volume === false) return undefined;
      const g = run([...r.prefix(onVolume), ...argvOf(where(r, onVolume))]);
      const m = re.exec(g.out);
      return g.code === 0 && m ? Number(m[1]) : (g.err || g.out).trim().split('\n').pop();
    });
    rows.push([name, ...got.map((g) => cell(g, unit))]);
    medians.push([name, unit === 'MB/s', new Map(got.map((g, i) => [runners[i].name, g.values]))]);
  }
}
if (wanted('find')) {
  let files = '';
  const got = rounds(findRepeat, (r) => {
    const g = run([...r.prefix(false), '/usr/bin/find', '/usr', '-name', '*.h']);
    if (g.code !== 0) return g.err.trim().split('\n').pop();
    files = `${g.out.split('\n').length - 1} files`;
    return g.ms;
  });
  const name = "find /usr -name '*.h' (root)";
  rows.push([name, ...got.map((g) => cell(g, 'ms'))]);
  medians.push([name, false, new Map(got.map((g, i) => [runners[i].name, g.values]))]);
  if (files) console.log(`find: ${files}`);
}
rmSync(data, { recursive: true, force: true });
rmSync(vol, { recursive: true, force: true });

const table = [['benchmark', ...runners.map((r) => r.name)], ...rows];
const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
console.log(`medians of ${repeat} alternated rounds (find: ${findRepeat}); load ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')} at the end`);
for (const r of table) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
// The goals' ratios: a read is "x native" as a share of native's rate, a stat "x native" as a
// multiple of native's time; "vs runsc" above 1 means tsvisor is ahead.
const ts = runners[1].name;
const rsc = runners.find((r) => r.name.startsWith('runsc'))?.name;
console.log('');
/** Median over the rounds of a's value over b's in the same round (the two ran back to back,
 *  under the same load), oriented so that above 1 favours a. */
function pairedRatio(a, b, moreIsBetter) {
  const k = Math.min(a.length, b.length);
  if (k === 0) return NaN;
  return median(Array.from({ length: k }, (_, i) => (moreIsBetter ? a[i] / b[i] : b[i] / a[i])));
}
for (const [name, moreIsBetter, m] of medians) {
  const t = m.get(ts) ?? [], n = m.get('native') ?? [], rs = rsc ? m.get(rsc) ?? [] : [];
  const med = (v) => (v.length ? median(v) : NaN);
  const vsNative = moreIsBetter ? `${(med(t) / med(n)).toFixed(2)}x native` : `${(med(t) / med(n)).toFixed(1)}x native's time`;
  const pairedNative = pairedRatio(t, n, moreIsBetter);
  const paired = ` (per round: ${moreIsBetter ? pairedNative.toFixed(2) : (1 / pairedNative).toFixed(1)}`;
  const vsRunsc = rsc ? `, ${((moreIsBetter ? med(t) / med(rs) : med(rs) / med(t))).toFixed(2)}x runsc (per round: ${pairedRatio(t, rs, moreIsBetter).toFixed(2)})` : '';
  console.log(`${ts} ${name}: ${vsNative}${paired})${vsRunsc}`);
}
