#!/usr/bin/env node
// `npm run test:kvm`: the KVM part of the suite, run where /dev/kvm works — inside the QEMU
// guest of ../shared/kvm/guest-run.sh (one boot for everything), or directly with --here on
// a host whose /dev/kvm works. Owns only the choice of files and getting them to run in the
// guest; the tests themselves are the ordinary vitest files and crates/kvm's cargo tests.
//
//   node test/kvm/guest_suite.mjs [--platforms kvm] [--files a.test.ts,b.test.ts] [--no-cargo]
//                                 [--here] [--timeout SECONDS] [--list]
//
// What the guest changes (and how this copes): its / is the host's, read-only, so the
// fixtures and the TypeScript are built on the host first (`vitest list` runs the global
// setup) and the cargo test binaries are built here and only run there; the working
// directory (the repository) is the one writable place, so vitest's cache lands in
// node_modules/.vite as usual; HOME is read-only (npm is not used inside, and its cache is
// pointed at the guest's tmpfs anyway); /tmp is a fresh tmpfs; node there is 10-20x slower,
// so the tests' own run timeouts are scaled (TSVISOR_TEST_TIME_SCALE, test/helpers/run.ts),
// and one test file runs at a time (vitest's worker start-up limit is a fixed 60 s).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The sandbox files the guest runs: the CLI's platform checks, static fixtures, fork/exec,
 *  threads, signals, futexes, busybox, page faults, the hostile fixtures. Chosen by their time
 *  in the guest on systrap (2026-12-06, TCG, 2 vCPUs, a loaded host; README "KVM tests"):
 *  cli_platform 116 s, hello 28 s, process 178 s, hostile 140 s, hostile_x86 113 s, memory
 *  42 s, busybox ~100 s. Left out: exit 144 s (process covers it), errors 122 s, dynamic 215 s
 *  (python3 outlasts its 90 s there), abi 74 s (its vsyscall cases depend on the host kernel:
 *  they fail on systrap in the guest), timers 97 s (timing-bound: fails in the guest). */
export const GUEST_FILES = [
  'test/sandbox/cli_platform.test.ts',
  'test/sandbox/hello.test.ts',
  'test/sandbox/busybox.test.ts',
  'test/sandbox/process.test.ts',
  'test/sandbox/memory.test.ts',
  'test/sandbox/hostile.test.ts',
  'test/sandbox/hostile_x86.test.ts',
];

/** crates whose cargo tests need /dev/kvm (built on the host, run in the guest). */
const KVM_CRATES = ['tsvisor-kvm'];

function parseArgs(argv) {
  const o = { platforms: process.env.TSVISOR_PLATFORMS ?? 'kvm', files: GUEST_FILES, cargo: true, here: false, timeout: 1800, list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--platforms') o.platforms = val();
    else if (a === '--files') o.files = val().split(',').filter((f) => f.length > 0);
    else if (a === '--no-cargo') o.cargo = false;
    else if (a === '--here') o.here = true;
    else if (a === '--timeout') o.timeout = Number(val());
    else if (a === '--list') o.list = true;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

function guestRunPath() {
  return process.env.TSVISOR_GUEST_RUN ?? path.resolve(root, '..', 'shared', 'kvm', 'guest-run.sh');
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.error) throw r.error;
  return r.status ?? 128;
}

/** The test executables of the KVM crates, built here (cargo in the guest would take ages). */
function buildCargoTests() {
  const args = ['test', '--no-run', '--message-format=json'];
  for (const c of KVM_CRATES) args.push('-p', c);
  const r = spawnSync('cargo', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`cargo ${args.join(' ')} failed (exit ${r.status})`);
  const bins = [];
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const m = JSON.parse(line);
    if (m.reason === 'compiler-artifact' && m.profile?.test && m.executable) bins.push(path.relative(root, m.executable));
  }
  return bins;
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  for (const f of o.files) if (!existsSync(path.join(root, f))) throw new Error(`no such test file: ${f}`);
  if (o.list) {
    process.stdout.write(o.files.join('\n') + '\n');
    return 0;
  }
  const t0 = Date.now();
  // Host side: fixtures compiled and dist/ fresh (the global setup runs for `vitest list`).
  const listed = run(process.execPath, ['node_modules/vitest/vitest.mjs', 'list', ...o.files],
    { env: { ...process.env, TSVISOR_PLATFORMS: o.platforms }, stdio: ['ignore', 'ignore', 'inherit'] });
  if (listed !== 0) throw new Error(`vitest list (host-side build of fixtures and dist/) failed: exit ${listed}`);
  const bins = o.cargo ? buildCargoTests() : [];
  console.error(`[test:kvm] host side ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${o.files.length} test files on ${o.platforms}, ${bins.length} cargo test binaries`);

  const scale = o.here ? '1' : '5';
  // One file at a time in the guest: vitest gives a forks worker 60 s to start (a constant),
  // which two busy workers on two emulated CPUs can starve.
  const vitest = ['node', 'node_modules/vitest/vitest.mjs', 'run', ...(o.here ? [] : ['--maxWorkers=1']),
    `--testTimeout=${60_000 * Number(scale)}`,
    `--hookTimeout=${120_000 * Number(scale)}`, ...o.files];
  const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = [
    'status=0',
    `${vitest.map(q).join(' ')} || status=1`,
    ...bins.map((b) => `echo "[test:kvm] cargo test: ${b}" >&2; ${q('./' + b)} --test-threads=1 || status=1`),
    // A vCPU thread still alive here belongs to a sandbox or test that did not end (a run once
    // sat in the guest kernel at exit, soft-locking a CPU): name it before the guest powers off.
    `left=$(ps -eLo pid,tid,stat,etimes,comm,wchan:32 | awk '$5 == "kvm-vcpu"')`,
    `[ -z "$left" ] || { echo "[test:kvm] vCPU threads left behind (pid tid stat secs comm wchan):" >&2; echo "$left" >&2; }`,
    'exit $status',
  ].join('\n');
  const env = { TSVISOR_PLATFORMS: o.platforms, TSVISOR_TEST_TIME_SCALE: scale, npm_config_cache: '/tmp/npm-cache' };
  let status;
  if (o.here) {
    status = run('bash', ['-c', script], { env: { ...process.env, ...env } });
  } else {
    const guestRun = guestRunPath();
    if (!existsSync(guestRun)) throw new Error(`${guestRun} not found (set TSVISOR_GUEST_RUN)`);
    const args = ['--timeout', String(o.timeout)];
    for (const [k, v] of Object.entries(env)) args.push('--env', `${k}=${v}`);
    status = run(guestRun, [...args, '--', 'bash', '-c', script]);
  }
  console.error(`[test:kvm] ${o.here ? 'here' : 'in the guest'}: exit ${status} after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return status;
}

try {
  process.exitCode = main();
} catch (e) {
  console.error(`[test:kvm] ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 2;
}
