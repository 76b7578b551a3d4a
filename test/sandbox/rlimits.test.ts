// Resource limits of issue 12 that Linux enforces: each subcommand of rlimits.c must give the
// same output and status in the sandbox as natively.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, shellStatus } from '../helpers/run';

const TIMEOUT_MS = 20_000;

describe.each(platforms)('%s', (platform) => {
  const same = async (cmd: string, timeoutMs = TIMEOUT_MS): Promise<void> => {
    const argv = [fixture('rlimits'), cmd];
    const native = await runNative(argv, { timeoutMs });
    expect(native.stderr).not.toContain('killed after');
    const r = await runSandbox(argv, { platform, timeoutMs });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(shellStatus(r), describeResult(r)).toBe(shellStatus(native));
  };

  it('RLIMIT_FSIZE: partial write, EFBIG and SIGXFSZ on write, truncate, fallocate', () => same('fsize'));
  it('RLIMIT_DATA: brk, private writable mmap, mprotect, mremap', () => same('data'));
  it('RLIMIT_AS: mmap, mremap, brk', () => same('as'));
  it('RLIMIT_NOFILE: every fd-creating call, dup errnos, SCM_RIGHTS', () => same('nofile'));
  it('RLIMIT_SIGPENDING: queued real-time signals', () => same('sigpending'));
  it('RLIMIT_STACK: MAP_GROWSDOWN growth and the initial stack', () => same('stack'));
  it('RLIMIT_CPU: SIGXCPU at the soft limit and each second, SIGKILL at the hard one', () => same('cpu', 90_000), 200_000);
}, 60_000);
