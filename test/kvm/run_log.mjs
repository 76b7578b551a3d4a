#!/usr/bin/env node
// Where the KVM guest's test time goes: sums the run log test/helpers/run.ts writes
// (TSVISOR_TEST_RUNLOG, one JSON line per runSandbox/runNative) per test file — how many
// sandbox and native runs, their wall time, and the slowest sandbox runs — so that a file's
// time can be told apart: the sandbox's start-up and work, the native reference runs, the rest
// (vitest, the test's own code). test/kvm/guest_files.sh prints it after the files.
//   node test/kvm/run_log.mjs LOG
import { readFileSync } from 'node:fs';

const [logPath] = process.argv.slice(2);
if (logPath === undefined) {
  console.error('usage: run_log.mjs LOG');
  process.exit(2);
}
const files = new Map();
for (const line of readFileSync(logPath, 'utf8').split('\n')) {
  if (line.trim() === '') continue;
  let r;
  try { r = JSON.parse(line); } catch { continue; }
  const f = files.get(r.file) ?? { sandbox: { n: 0, ms: 0 }, native: { n: 0, ms: 0 }, slowest: [] };
  const k = r.kind === 'native' ? f.native : f.sandbox;
  k.n++;
  k.ms += r.ms;
  if (r.kind === 'sandbox') f.slowest.push(r);
  files.set(r.file, f);
}
const s = (ms) => (ms / 1000).toFixed(1);
const say = (t) => process.stdout.write(`[test:kvm] runs: ${t}\n`);
let total = { sn: 0, sms: 0, nn: 0, nms: 0 };
say('file: sandbox runs (s, mean s) | native runs (s) | slowest sandbox runs');
for (const [file, f] of [...files].sort((a, b) => b[1].sandbox.ms - a[1].sandbox.ms)) {
  total = { sn: total.sn + f.sandbox.n, sms: total.sms + f.sandbox.ms, nn: total.nn + f.native.n, nms: total.nms + f.native.ms };
  const mean = f.sandbox.n > 0 ? s(f.sandbox.ms / f.sandbox.n) : '-';
  const slow = f.slowest.sort((a, b) => b.ms - a.ms).slice(0, 2).map((r) => `${r.program} ${s(r.ms)}`).join(', ');
  say(`${file}: ${f.sandbox.n} (${s(f.sandbox.ms)}, ${mean}) | ${f.native.n} (${s(f.native.ms)}) | ${slow}`);
}
say(`all: ${total.sn} sandbox runs ${s(total.sms)} s, ${total.nn} native runs ${s(total.nms)} s`);
