// CPU time accounting of issue 12: wait4/waitid rusage, RUSAGE_CHILDREN, times(), thread and
// process CPU clocks report the CPU the application used (fixture cputime.c prints verdicts
// with bounds: at least what was burnt, at most the wall time it took).
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

const TIMEOUT_MS = 60_000;

describe.each(platforms)('%s', (platform) => {
  it('a reaped child and grandchild: wait4, waitid, RUSAGE_CHILDREN, times()', () =>
    expectSameAsNative([fixture('cputime'), 'children'], platform, TIMEOUT_MS), 120_000);
  it('thread CPU clocks: a burning thread advances, a sleeping one does not', () =>
    expectSameAsNative([fixture('cputime'), 'threads'], platform, TIMEOUT_MS), 120_000);
  it('a process that only sleeps is charged almost nothing', () =>
    expectSameAsNative([fixture('cputime'), 'sleeper'], platform, TIMEOUT_MS), 120_000);
});
