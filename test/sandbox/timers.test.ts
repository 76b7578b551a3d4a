// Timers: alarm and the interval timers, POSIX timers, timerfd, signalfd, absolute and
// interrupted sleeps (test/fixtures/timers.c, compared with a native run), and real programs
// that use them. Counts and orderings only; the one timing bound is "did not run the full
// time".
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { asCurrentKernel, hostKernelBefore, inQemuGuest, type LineEdit } from '../helpers/native_kernel';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause, TIME_SCALE } from '../helpers/run';

const PYTHON = '/usr/bin/python3';

// Its period scales with TSVISOR_TEST_TIME_SCALE: in the QEMU guest, python under TCG took
// more than 20 ms from the third SIGALRM to the disarm, and a fourth came (hits 4 on kvm there).
const PY_SETITIMER = `
import signal
hits = []
signal.signal(signal.SIGALRM, lambda s, f: hits.append(s))
print("old", signal.setitimer(signal.ITIMER_REAL, ${0.05 * TIME_SCALE}, ${0.02 * TIME_SCALE}))
while len(hits) < 3:
    signal.pause()
signal.setitimer(signal.ITIMER_REAL, 0)
print("hits", len(hits), "after", signal.getitimer(signal.ITIMER_REAL))
`;

/** Sections of timers.c whose checks have 2-20 ms periods and bounds. Under QEMU TCG (the KVM
 *  step's guest) they do not hold natively: of 20 native runs of the whole fixture there, 17
 *  failed a check of these sections and 6 of those died of SIGUSR1 in the signalfd section;
 *  an expired timerfd deadline was read as EAGAIN right after timerfd_settime in 879 of 1,000
 *  tries (TCG's LAPIC timer fires after the call returns; 0 of 100,000 on this host); and the
 *  sandbox on kvm failed one of them in 3 of 5 runs (a sixth 20 ms SIGALRM before the disarm,
 *  a timer_gettime or timerfd_gettime past its period). In the guest only the other sections
 *  run, each compared exactly. */
const TIMING_BOUND = ['setitimer_real', 'posix_signal', 'timerfd', 'signalfd'];
const ROBUST = ['alarm', 'cpu_itimers', 'posix_thread', 'posix_none', 'posix_cpu', 'posix_errors', 'sleeps', 'exec_fork'];
const tcgTiming = skipBecause(inQemuGuest,
  `QEMU TCG cannot keep the 2-20 ms timing of the timers fixture's ${TIMING_BOUND.join(', ')} sections (natively in the guest they fail most runs): only ${ROBUST.join(', ')} are compared there`);
/** Before Linux 6.13 a deleted POSIX timer's queued signal can stay pending (6.13 drops it, as
 *  the sandbox does): natively the check fails when the 2 ms timer fired again before the
 *  delete, a race an old host loses often (the TCG guest's 6.1: most runs). */
const oldTimerDelete = skipBecause(hostKernelBefore(6, 13),
  'host kernel predates 6.13: a deleted timer\'s pending signal may stay queued natively; timers expects 6.13\'s answer (gone) from the sandbox');
const TIMERS_NOW: LineEdit[] = oldTimerDelete ? [{
  old: /^FAIL deleted timer: its pending signal is gone\n {2}errno \d+ \([^)\n]*\)\n/m,
  now: 'ok deleted timer: its pending signal is gone\n',
  sometimes: true,
}] : [];
const TIMERS_ARGV = (): string[] => (tcgTiming ? [fixture('timers'), ROBUST.join(',')] : [fixture('timers')]);

describe.each(platforms)('%s', (platform) => {
  it('timers fixture behaves as natively', async () => {
    const native = await runNative(TIMERS_ARGV());
    const edited = asCurrentKernel(native.stdout, TIMERS_NOW);
    // Whatever the edits answered for is no longer a native failure: the count goes with them.
    const want = edited.replace(/^failures: \d+\n/m, `failures: ${(edited.match(/^FAIL /gm) ?? []).length}\n`);
    expect(want, describeResult(native)).toMatch(/^failures: 0\n/m);
    expect(native.code, describeResult(native)).toBe(/^failures: 0\n/m.test(native.stdout) ? 0 : 1);
    const r = await runSandbox(TIMERS_ARGV(), { platform });
    expect(r.stdout.split('\n').filter((l) => l.startsWith('FAIL')), describeResult(r)).toEqual([]);
    expect(r.stdout, describeResult(r)).toBe(want);
    expect(r.code, describeResult(r)).toBe(0);
  });

  it('timers left armed do not keep the sandbox running', async () => {
    const t0 = Date.now();
    const r = await runSandbox([fixture('timers'), 'leave-armed'], { platform });
    expect(r.stdout, describeResult(r)).toBe('armed\n');
    expect(r.code, describeResult(r)).toBe(0);
    expect(Date.now() - t0).toBeLessThan(50_000);
  });

  it('coreutils timeout 1 sleep 60 exits 124 without waiting for the sleep', async () => {
    // 124 says the timer fired; a SIGTERM lost on the way would still give 124, but only after
    // the whole sleep: 60 s against a bound of 40 s tells the two apart on a loaded host. Both
    // scale with TSVISOR_TEST_TIME_SCALE (the QEMU guest took 34 s for this run at load 9).
    const t0 = Date.now();
    const r = await runSandbox(['/usr/bin/timeout', '1', '/bin/sleep', String(60 * TIME_SCALE)], { platform, timeoutMs: 90_000 });
    expect(r.code, describeResult(r)).toBe(124);
    expect(Date.now() - t0).toBeLessThan(40_000 * TIME_SCALE);
  }, 120_000 * TIME_SCALE);

  it('coreutils timeout -s KILL 1 sleep 5 exits 137', async () => {
    const r = await runSandbox(['/usr/bin/timeout', '-s', 'KILL', '1', '/bin/sleep', '5'], { platform });
    expect(r.code, describeResult(r)).toBe(137);
  });

  it.skipIf(!existsSync(PYTHON))('python3 signal.setitimer and signal.pause', async () => {
    const native = await runNative([PYTHON, '-c', PY_SETITIMER]);
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox([PYTHON, '-c', PY_SETITIMER], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
  });
});
