// A child's parent is the thread that forked it (wait_threads.c): __WNOTHREAD, PTRACE_TRACEME
// and the parent-death signal follow that thread, and a traced zombie is reaped whatever
// __WCLONE says. Each case must print and end as natively.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, shellStatus } from '../helpers/run';

const TIMEOUT_MS = 20_000;

describe.each(platforms)('%s', (platform) => {
  const same = async (cmd: string): Promise<void> => {
    const argv = [fixture('wait_threads'), cmd];
    const native = await runNative(argv, { timeoutMs: TIMEOUT_MS });
    expect(native.stderr).not.toContain('killed after');
    const r = await runSandbox(argv, { platform, timeoutMs: TIMEOUT_MS });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(shellStatus(r), describeResult(r)).toBe(shellStatus(native));
  };

  it('a zombie tracee is its tracer-parent\'s to reap with __WCLONE', () => same('tracee_wclone'));
  it('__WNOTHREAD sees only the children the calling thread forked', () => same('wnothread'));
  it('the parent-death signal comes when the forking thread exits', () => same('pdeath'));
  it('and when another thread\'s execve ends it', () => same('pdeath_exec'));
  it('PTRACE_TRACEME makes the forking thread the tracer', () => same('traceme'));
}, 60_000);
