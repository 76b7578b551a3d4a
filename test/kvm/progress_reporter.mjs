// A vitest reporter for the KVM guest run (test/kvm/guest_files.sh): one line per test as it
// ends, and the name of the test now running written to $KVM_SUITE_STATE, so that the
// runner's heartbeat and a timed-out file can say where they were. The default reporter
// (also on) prints per file, only when the file ends — too late for a guest that hangs.
import { writeFileSync } from 'node:fs';

const state = process.env.KVM_SUITE_STATE;

function note(text) {
  if (state === undefined) return;
  try {
    writeFileSync(state, text + '\n');
  } catch {
    /* the heartbeat is best effort */
  }
}

export default class ProgressReporter {
  onTestCaseReady(test) {
    note(test.fullName);
  }

  onTestCaseResult(test) {
    const r = test.result();
    const ms = test.diagnostic()?.duration ?? 0;
    const mark = r.state === 'passed' ? 'ok' : r.state === 'failed' ? 'FAILED' : r.state;
    process.stdout.write(`[test:kvm]   ${mark} ${test.fullName} (${(ms / 1000).toFixed(1)} s)\n`);
    note(`(between tests; last: ${test.fullName})`);
  }
}
