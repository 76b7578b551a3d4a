// A vitest reporter for the KVM guest run (test/kvm/guest_files.sh): a line when a test file
// starts and ends and one per test as it ends, on stdout as they happen (the default
// reporter, also on, prints a file only once it is over — too late for a guest that hangs).
// For the runner's watchdog and heartbeat it keeps, under $KVM_SUITE_STATE:
//   .module  "FILE<TAB>epoch seconds it started" while a file runs, empty between files
//   .test    the test now running
//   .done    "FILE<TAB>passed|FAILED" per file that ended
// The lines' shape is read by the host (test/kvm/guest_suite.mjs): keep it.
import { appendFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const state = process.env.KVM_SUITE_STATE;
const t0 = Number(process.env.KVM_SUITE_T0 ?? Math.floor(Date.now() / 1000));

function put(suffix, text, append = false) {
  if (state === undefined) return;
  try {
    (append ? appendFileSync : writeFileSync)(state + suffix, text);
  } catch {
    /* the watchdog then sees nothing new, which is what happened */
  }
}

/** Lines of a failed test's error shown as it fails. */
const ERROR_LINES = 40;

const now = () => Math.floor(Date.now() / 1000);
const say = (text) => process.stdout.write(`[test:kvm] +${now() - t0}s ${text}\n`);
const rel = (m) => path.relative(process.cwd(), m.moduleId);

export default class ProgressReporter {
  onTestModuleStart(m) {
    put('.module', `${rel(m)}\t${now()}\n`);
    say(`start ${rel(m)}`);
  }

  onTestModuleEnd(m) {
    const result = m.state() === 'failed' ? 'FAILED' : m.state();
    const secs = Math.round((m.diagnostic()?.duration ?? 0) / 1000);
    put('.done', `${rel(m)}\t${result}\n`, true);
    put('.module', '');
    say(`end ${rel(m)}: ${result} in ${secs} s`);
  }

  onTestCaseReady(test) {
    put('.test', test.fullName);
  }

  onTestCaseResult(test) {
    const r = test.result();
    const ms = test.diagnostic()?.duration ?? 0;
    const mark = r.state === 'passed' ? 'ok' : r.state === 'failed' ? 'FAILED' : r.state;
    process.stdout.write(`[test:kvm]   ${mark} ${test.fullName} (${(ms / 1000).toFixed(1)} s)\n`);
    // Why, at once: the default reporter says it only when vitest ends, which a run killed at
    // its deadline (or a file past its limit) never reaches.
    for (const e of r.state === 'failed' ? r.errors ?? [] : []) {
      const plain = (t) => (t ?? '').replace(/\x1b\[[0-9;]*m/g, '').split('\n').filter((l) => l.trim() !== '');
      // Of the diff, only its changed lines (a whole program's output is mostly the same), and
      // first: the message often holds the whole output (describeResult), which used up the
      // lines before the diff was reached.
      const lines = [...plain(e.diff).filter((l) => /^[-+]/.test(l)), ...plain(e.message)];
      const shown = lines.slice(0, ERROR_LINES).map((l) => `[test:kvm]     | ${l.slice(0, 300)}\n`).join('');
      process.stdout.write(shown + (lines.length > ERROR_LINES ? `[test:kvm]     | (${lines.length - ERROR_LINES} more lines)\n` : ''));
    }
    put('.test', `(between tests; last: ${test.fullName})`);
  }
}
