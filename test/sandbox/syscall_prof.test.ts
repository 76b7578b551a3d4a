// TSVISOR_SYSCALL_PROF=1 (ts/syscalls/linux/syscall_prof.ts): at exit the sentry prints each
// syscall's count and its handlers' time. The counts are checked against what the program
// is known to make (three fork+execve+wait of /bin/true from sh); without the variable
// nothing is printed.
import { describe, expect, it } from 'vitest';
import { describeResult, platforms, runSandbox } from '../helpers/run';

const script = 'for i in 1 2 3; do /bin/true; done';

function row(stderr: string, name: string): { count: number; ms: number } | null {
  const m = new RegExp(`^tsvisor-syscalls: ${name} +(\\d+) +([\\d.]+) ms`, 'm').exec(stderr);
  return m ? { count: Number(m[1]), ms: Number(m[2]) } : null;
}

describe.each(platforms)('%s', (platform) => {
  it('counts each syscall the program made, and says nothing unless asked', async () => {
    const saved = process.env.TSVISOR_SYSCALL_PROF;
    process.env.TSVISOR_SYSCALL_PROF = '1';
    let r;
    try {
      r = await runSandbox(['/bin/sh', '-c', script], { platform, timeoutMs: 60_000 });
    } finally {
      if (saved === undefined) delete process.env.TSVISOR_SYSCALL_PROF; else process.env.TSVISOR_SYSCALL_PROF = saved;
    }
    expect(r.code, describeResult(r)).toBe(0);
    expect(row(r.stderr, 'execve')?.count).toBe(3);
    expect(row(r.stderr, 'wait4')?.count).toBeGreaterThanOrEqual(3);
    const total = /^tsvisor-syscalls: (\d+) calls \((\d+) trapped\), ([\d.]+) ms in handlers$/m.exec(r.stderr);
    expect(total, r.stderr).not.toBeNull();
    expect(Number(total![1])).toBeGreaterThan(50);
    // systrap: the calls that came through its SIGSYS trap, not a patched site (each
    // program's first calls at a site always do); ptrace has no such trap to count.
    if (platform === 'systrap') expect(Number(total![2])).toBeGreaterThan(0);
    else expect(Number(total![2])).toBe(0);
    expect(Number(total![2])).toBeLessThanOrEqual(Number(total![1]));
    const quiet = await runSandbox(['/bin/sh', '-c', script], { platform, timeoutMs: 60_000 });
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toMatch(/tsvisor-syscalls/);
  }, 120_000);
});
