#!/usr/bin/env node
// npm run bench:net — the network figures of issue 8, native vs tsvisor vs runsc, one run:
//   tput       TCP throughput over 127.0.0.1 inside the sandbox (MiB/s)
//   cps        connect+accept+close over 127.0.0.1 (conn/s)
//   udprr      UDP round trip over 127.0.0.1 between two processes (us)
//   httprr     a keep-alive HTTP/1.1 request and its response over 127.0.0.1 between two
//              processes (us per request)
//   nat-tput   TCP to a sink on the host's 127.0.0.1 (natively direct; tsvisor through its
//              NAT at 10.0.2.2) (MiB/s)
//   nat-tput-in TCP from a source on the host's 127.0.0.1 sending --mib MiB, the same way (MiB/s)
//   nat-udprr  UDP round trip to an echo on the host's 127.0.0.1 (the same way) (us)
// tsvisor-host is systrap with --network=host (its nat-* figures go to 127.0.0.1 directly).
// runsc runs with --network=none (its netstack serves loopback; --network=sandbox needs root
// and iptables), so it has no nat-* figures. Options: --mib N (default 256), --conns N (1000),
// --rtts N (2000, also the HTTP requests), --baseline DIR (another checkout's bin/tsvisor.js run
// too, as baseline-systrap and baseline-ptrace, each figure measured right after this build's),
// --only a,b (just those figures).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import { mkdirSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 && i + 1 < args.length ? Number(args[i + 1]) : dflt; };
const mib = opt('--mib', 256), conns = opt('--conns', 1000), rtts = opt('--rtts', 2000);
const sopt = (name) => { const i = args.indexOf(name); return i >= 0 && i + 1 < args.length ? args[i + 1] : null; };
const baseline = sopt('--baseline');
const only = sopt('--only')?.split(',') ?? null;

const binDir = path.join(tmpdir(), 'tsvisor-benches');
mkdirSync(binDir, { recursive: true });
const bin = path.join(binDir, 'net');
execFileSync('gcc', ['-O2', '-static', '-o', bin, path.join(root, 'benches', 'net.c')], { stdio: 'inherit' });

// Host-side servers: a TCP sink, a TCP source and a UDP echo on 127.0.0.1.
const sink = net.createServer((c) => { c.on('data', () => {}); c.on('end', () => c.end()); c.on('error', () => {}); });
await new Promise((r) => sink.listen(0, '127.0.0.1', r));
const srcBuf = Buffer.alloc(1 << 20, 'y');
const source = net.createServer((c) => {
  let i = 0;
  const go = () => { while (i < mib) { i++; if (!c.write(srcBuf)) { c.once('drain', go); return; } } c.end(); };
  c.on('error', () => {});
  go();
});
await new Promise((r) => source.listen(0, '127.0.0.1', r));
const echo = dgram.createSocket('udp4');
echo.on('message', (m, r) => echo.send(m, r.port, r.address));
await new Promise((r) => echo.bind(0, '127.0.0.1', r));
const sinkPort = sink.address().port, echoPort = echo.address().port, sourcePort = source.address().port;

const tsvisor = (p, dir = root) => [process.execPath, path.join(dir, 'bin', 'tsvisor.js'), 'run', `--platform=${p}`, '--'];
const runners = [
  { name: 'native', prefix: [], gw: '127.0.0.1' },
  { name: 'tsvisor-systrap', prefix: tsvisor('systrap'), gw: '10.0.2.2' },
  ...(baseline ? [{ name: 'baseline-systrap', prefix: tsvisor('systrap', path.resolve(baseline)), gw: '10.0.2.2' }] : []),
  { name: 'tsvisor-ptrace', prefix: tsvisor('ptrace'), gw: '10.0.2.2' },
  ...(baseline ? [{ name: 'baseline-ptrace', prefix: tsvisor('ptrace', path.resolve(baseline)), gw: '10.0.2.2' }] : []),
  // --network=host: the program's sockets are host sockets (no nat-* path: 127.0.0.1 direct).
  { name: 'tsvisor-host', prefix: [...tsvisor('systrap').slice(0, -1), '--network=host', '--'], gw: '127.0.0.1' },
];
if (spawnSync('sh', ['-c', 'command -v runsc']).status === 0) {
  runners.push({ name: 'runsc-ptrace', prefix: ['runsc', '--platform=ptrace', '--network=none', '--ignore-cgroups', 'do'], gw: null });
} else console.log('note: runsc not installed, left out');

function run(argv) {
  return new Promise((resolve) => {
    const c = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (b) => (out += b));
    c.stderr.on('data', () => {});
    c.on('close', (code) => resolve({ code, out }));
  });
}

const tests = (gw) => [
  ['tput', ['tput', String(mib)], /tput ([\d.]+)/],
  ['cps', ['cps', String(conns)], /cps ([\d.]+)/],
  ['udprr', ['udprr', String(rtts)], /udprr ([\d.]+)/],
  ['httprr', ['httprr', String(rtts)], /httprr ([\d.]+)/],
  ...(gw ? [['nat-tput', ['tput-to', gw, String(sinkPort), String(mib)], /tput ([\d.]+)/],
    ['nat-tput-in', ['tput-from', gw, String(sourcePort)], /tput ([\d.]+)/],
    ['nat-udprr', ['udprr-to', gw, String(echoPort), String(rtts)], /udprr ([\d.]+)/]] : []),
];
const units = { tput: 'MiB/s', cps: 'conn/s', udprr: 'us', httprr: 'us', 'nat-tput': 'MiB/s', 'nat-tput-in': 'MiB/s', 'nat-udprr': 'us' };
const lowerBetter = new Set(['udprr', 'httprr', 'nat-udprr']);
const results = {};
for (const r of runners) results[r.name] = {};
// Figure by figure, every runner in turn: a baseline is measured beside this build.
for (const [key] of tests('x')) {
  if (only && !only.includes(key)) continue;
  for (const r of runners) {
    const t = tests(r.gw).find(([k]) => k === key);
    if (!t) continue;
    const g = await run([...r.prefix, bin, ...t[1]]);
    const m = t[2].exec(g.out);
    if (g.code === 0 && m) results[r.name][key] = Number(m[1]);
    else console.log(`note: ${r.name} ${key} failed (status ${g.code})`);
  }
}
sink.close();
source.close();
echo.close();

const keys = Object.keys(units);
console.log(`\n${'figure'.padEnd(16)}${runners.map((r) => r.name.padStart(18)).join('')}`);
for (const k of keys) {
  const n = results.native[k];
  const cells = runners.map((r) => {
    const v = results[r.name][k];
    if (v === undefined) return '-'.padStart(18);
    const ratio = r.name === 'native' || !n ? '' : ` (${(lowerBetter.has(k) ? n / v : v / n).toFixed(2)}x)`;
    return `${v}${ratio}`.padStart(18);
  });
  console.log(`${`${k} ${units[k]}`.padEnd(16)}${cells.join('')}`);
}
console.log('\n(x): speed as a fraction of native (higher is better).');
const t = results['tsvisor-systrap'], g = results['runsc-ptrace'];
if (t && g) for (const k of ['tput', 'cps', 'udprr', 'httprr']) if (t[k] && g[k]) console.log(`tsvisor-systrap vs runsc-ptrace ${k}: ${(lowerBetter.has(k) ? g[k] / t[k] : t[k] / g[k]).toFixed(2)}x`);
