#!/usr/bin/env node
// The KVM rows of npm run bench: a getppid round trip and a page-fault-heavy program
// (benches/getppid.c, benches/pagefault.c), natively, on systrap and on kvm. Where kvm cannot
// run here, its cells say why instead. `--guest` runs the same inside the QEMU TCG guest of
// ../shared/kvm/guest-run.sh, where /dev/kvm exists but everything is emulated: those figures
// show that the rows work, not how fast anything is, and are labelled so.
//   node benches/kvm.mjs [--guest] [--iterations N] [--rounds N]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? Number(args[i + 1]) : dflt;
};
const inGuest = process.env.TSVISOR_KVM_GUEST === '1';
// Emulated CPUs are 10-40x slower: fewer iterations there by default.
const iterations = opt('--iterations', inGuest ? 2000 : 200000);
const rounds = opt('--rounds', inGuest ? 2 : 20);
const LABEL = 'QEMU TCG guest: functional only';

// Built inside the repository (build/ is ignored): the guest sees it, not the host's /tmp.
const binDir = path.join(root, 'build', 'benches');
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : -1);
function build(src, name) {
  const out = path.join(binDir, name);
  if (mtime(out) < mtime(src)) {
    mkdirSync(binDir, { recursive: true });
    execFileSync('gcc', ['-O2', '-static', '-o', out, src], { stdio: 'inherit' });
  }
  return out;
}
const bins = {
  getppid: build(path.join(root, 'benches', 'getppid.c'), 'getppid'),
  pagefault: build(path.join(root, 'benches', 'pagefault.c'), 'pagefault'),
  probe: build(path.join(root, 'test', 'fixtures', 'kvm_probe.c'), 'kvm_probe'),
};

if (args.includes('--guest') && !inGuest) {
  const guestRun = process.env.TSVISOR_GUEST_RUN ?? path.resolve(root, '..', 'shared', 'kvm', 'guest-run.sh');
  if (!existsSync(guestRun)) {
    console.log(`kvm rows (${LABEL}): absent: ${guestRun} not found (set TSVISOR_GUEST_RUN)`);
    process.exit(0);
  }
  const rest = args.filter((a) => a !== '--guest');
  const r = spawnSync(guestRun, ['--', process.execPath, path.join(root, 'benches', 'kvm.mjs'), ...rest], { cwd: root, stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

/** Why kvm cannot run here, or null: the device, a vCPU that really enters ring 0 on a
 *  ring-3 syscall (kvm_probe), and an addon built with the kvm platform. */
function kvmProblem() {
  if (!existsSync('/dev/kvm')) return '/dev/kvm: No such file or directory';
  const p = spawnSync(bins.probe, [], { encoding: 'utf8' });
  if (p.status !== 0) return (p.stdout || p.stderr).trim();
  const addon = path.join(root, 'build', 'tsvisor.node');
  const a = spawnSync(process.execPath, ['-e', `const a = require(${JSON.stringify(addon)}); new a.Platform(new a.MemoryFile(), 'kvm');`], { encoding: 'utf8' });
  if (a.status !== 0) return `the addon cannot make the kvm platform: ${(a.stderr.split('\n').find((l) => /Error/.test(l)) ?? a.stderr).trim()}`;
  return null;
}

function measure(prefix, argv, re) {
  const r = spawnSync(prefix[0] ?? argv[0], [...prefix.slice(1), ...(prefix.length ? argv : argv.slice(1))], { encoding: 'utf8', timeout: 600_000 });
  const m = re.exec(r.stdout ?? '');
  if (r.status === 0 && m) return { value: Number(m[1]) };
  return { why: `FAIL (status ${r.status}): ${((r.stderr || r.stdout) ?? '').trim().split('\n').pop() ?? ''}` };
}

const tsvisor = (p) => [process.execPath, path.join(root, 'bin', 'tsvisor.js'), 'run', `--platform=${p}`, '--'];
const kvmWhy = kvmProblem();
const runners = [
  { name: 'native', prefix: [] },
  { name: 'systrap', prefix: tsvisor('systrap') },
  { name: 'kvm', prefix: tsvisor('kvm'), absent: kvmWhy },
];
const rows = [
  { label: 'kvm: getppid', unit: 'ns/op', argv: [bins.getppid, String(iterations)], re: /getppid (\d+(?:\.\d+)?) ns\/op/ },
  { label: 'kvm: page faults', unit: 'ns/page', argv: [bins.pagefault, String(rounds), '16'], re: /pagefault (\d+(?:\.\d+)?) ns\/page/ },
];

const title = inGuest ? `kvm rows (${LABEL}; ${iterations} getppid calls, ${rounds} x 16 MiB touched)`
  : `kvm rows (${iterations} getppid calls, ${rounds} x 16 MiB touched)`;
console.log(title);
const table = [['benchmark', ...runners.map((r) => (r.name === 'native' ? 'native' : `${r.name} (x native)`))]];
for (const row of rows) {
  const cells = [row.label];
  let base;
  for (const r of runners) {
    if (r.absent) {
      cells.push(`absent: ${r.absent}`);
      continue;
    }
    const m = measure(r.prefix, row.argv, row.re);
    if (m.value === undefined) cells.push(m.why);
    else if (r.name === 'native') {
      base = m.value;
      cells.push(`${m.value.toFixed(0)} ${row.unit}`);
    } else cells.push(`${m.value.toFixed(0)} ${row.unit}${base ? ` (${(m.value / base).toFixed(1)}x)` : ''}`);
  }
  table.push(cells);
}
const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
for (const r of table) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
if (inGuest) console.log(`(${LABEL}: every figure above is from an emulated CPU; compare nothing with them)`);
