#!/usr/bin/env node
// node benches/fs_trees.mjs: programs that walk the host tree through the gofer (find, tar,
// du, ls -lR), natively, in tsvisor and in runsc (ptrace platform, its gofer), alternated in
// each round. Each cell: wall time and CPU (user+sys of the process and its children, from
// /usr/bin/time), and for tsvisor the 9P writes (round trips) TSVISOR_P9_STATS=1 counts.
// An output other than the native one is marked. Options: --runs N (default 1), --before DIR (also the
// tsvisor of another checkout), --only NAME[,NAME].
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (n) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : undefined; };
const runs = Number(opt('--runs') ?? 1);
const only = opt('--only')?.split(',');
const before = opt('--before');
const has = (c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0;

const programs = [
  ['find', "find /usr -name '*.h' | wc -l"],
  ['tar', 'tar cf - /usr/include 2>/dev/null | wc -c'],
  ['du', 'du -s /usr/lib'],
  ['ls-lR', 'ls -lR /usr/include | wc -c'],
].filter(([n]) => !only || only.includes(n));

const runners = [['native', []], ['tsvisor', [process.execPath, path.join(root, 'bin', 'tsvisor.js'), 'run', '--']]];
if (before) runners.push(['before', [process.execPath, path.join(path.resolve(before), 'bin', 'tsvisor.js'), 'run', '--']]);
if (has('runsc')) runners.push(['runsc', ['runsc', '--platform=ptrace', '--network=none', '--ignore-cgroups', 'do']]);
else console.log('note: runsc not installed, left out');
if (!existsSync('/usr/bin/time')) { console.log('skipped: /usr/bin/time not installed (CPU figures need it)'); process.exit(0); }

const tmp = mkdtempSync(path.join(tmpdir(), 'fs-trees-'));
const timeFile = path.join(tmp, 'time');
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
console.log(`host load ${load()} at start; ${runs} run(s), cells: wall s / cpu s [9P writes]`);
for (const [name, cmd] of programs) {
  const cells = runners.map(() => []);
  let expected = null;
  for (let i = 0; i < runs; i++) {
    runners.forEach(([rn, prefix], j) => {
      const r = spawnSync('/usr/bin/time', ['-o', timeFile, '-f', '%e %U %S', ...prefix, 'sh', '-c', cmd], {
        encoding: 'utf8', env: { ...process.env, TSVISOR_P9_STATS: '1' }, maxBuffer: 1 << 26,
      });
      const [wall, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
      const writes = /tsvisor-p9: (\d+) writes/.exec(r.stderr)?.[1];
      if (expected === null) expected = r.stdout;
      // runsc's gofer reports other sizes and link counts (du, ls -l): timed, and marked.
      const cell = `${wall.toFixed(2)}/${(user + sys).toFixed(2)}${writes ? ` [${writes}]` : ''}`;
      if (r.status !== 0) cells[j].push(`FAIL(${r.status}) ${rn}`);
      else cells[j].push(r.stdout === expected ? cell : `${cell} (output differs)`);
    });
  }
  console.log(`${name.padEnd(6)} ${runners.map(([rn], j) => `${rn}: ${cells[j].join(', ')}`).join('  ')}`);
}
console.log(`host load ${load()} at end`);
rmSync(tmp, { recursive: true, force: true });
