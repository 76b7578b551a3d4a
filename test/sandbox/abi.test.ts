// The ways into the kernel other than the x86-64 `syscall` instruction: the legacy vsyscall
// page and the i386 ABI (int 0x80, sysenter) of a 64-bit program. Each runs natively and in
// the sandbox and must end the same way; the sandbox's answers must come from the sentry (the
// strace shows the call), never from the host kernel.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, shellStatus, skipBecause } from '../helpers/run';

const timeoutMs = 15_000;
const abi = fixture('abi');

/** A host kernel booted with vsyscall=none (the QEMU guest's) maps no vsyscall page: there the
 *  native run dies of SIGSEGV and cannot be compared; the sandbox, which always emulates the
 *  page (Linux's default, xonly), is then held to the fixture's own checks and the strace. */
const hostHasVsyscall = readFileSync('/proc/self/maps', 'utf8').includes('[vsyscall]');
const noNativeVsyscall = skipBecause(!hostHasVsyscall,
  'the host kernel maps no vsyscall page (vsyscall=none): the vsyscall cases check the sandbox against the fixture\'s own bounds, not against a native run');

/** Lines of the strace that record a call of `name` (x86-64, not [i386]). */
function straced(stderr: string, name: string): number {
  return stderr.split('\n').filter((l) => new RegExp(`^\\[\\s*\\d+\\] ${name}\\(`).test(l)).length;
}

describe.each(platforms)('%s', (platform) => {
  it.each([
    ['vgettimeofday', 'gettimeofday'],
    ['vtime', 'time'],
    ['vgetcpu', 'getcpu'],
  ])('the vsyscall page entry %s is answered by the sentry', async (mode, syscall) => {
    const native = await runNative([abi, mode], { timeoutMs });
    const r = await runSandbox([abi, mode], { platform, timeoutMs, extraArgs: ['--strace'] });
    expect(r.code, describeResult(r)).toBe(0);
    if (noNativeVsyscall) {
      // What the reason says: natively the call faults. The fixture exits 1 on any answer
      // outside its bounds, and prints these lines only when all were inside.
      expect(native.signal, describeResult(native)).toBe('SIGSEGV');
      expect(r.stdout).toBe(`${mode === 'vgettimeofday' ? 'vgettimeofday = 0\n' : ''}${mode} ok\n`);
    } else {
      expect(native.code, describeResult(native)).toBe(0);
      expect(r.stdout).toBe(native.stdout);
    }
    const calls = /calls: vsyscall=(\d+) syscall=(\d+)/.exec(r.stderr);
    expect(calls, describeResult(r)).not.toBeNull();
    const [, vsyscalls, syscalls] = calls!;
    expect(straced(r.stderr, syscall), describeResult(r)).toBe(Number(vsyscalls) + Number(syscalls));
  });

  it('int 0x80 exit_group(42) exits with 42', async () => {
    const native = await runNative([abi, 'int80_exit'], { timeoutMs });
    expect(native.code).toBe(42);
    const r = await runSandbox([abi, 'int80_exit'], { platform, timeoutMs });
    expect(r.code, describeResult(r)).toBe(42);
    expect(r.stdout).toBe('');
  });

  it.each(['int80_write', 'int80_highbits'])('%s: the i386 write(1, buf, n) writes', async (mode) => {
    const native = await runNative([abi, mode], { timeoutMs });
    expect(native.stdout).toBe('hello from int 0x80\nwrite = 20\n');
    const r = await runSandbox([abi, mode], { platform, timeoutMs, extraArgs: ['--strace'] });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toBe(native.stdout);
    expect(r.stderr).toMatch(/^\[\s*\d+\] \[i386\] write\(1\b.*"hello from int 0x80\\n", 20\) = 20$/m);
  });

  it('int 0x80 getpid and getppid agree with the x86-64 calls', async () => {
    const r = await runSandbox([abi, 'int80_ids'], { platform, timeoutMs });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toBe('ids ok\n');
  });

  it('an i386 number past the table is ENOSYS', async () => {
    const native = await runNative([abi, 'int80_enosys'], { timeoutMs });
    expect(native.stdout).toBe('enosys = -38 -38 -38\n');
    const r = await runSandbox([abi, 'int80_enosys'], { platform, timeoutMs });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toBe(native.stdout);
  });

  it('sysenter in 64-bit mode ends as it does natively', async () => {
    const native = await runNative([abi, 'sysenter'], { timeoutMs });
    const status = shellStatus(native);
    expect(status).not.toBeNull();
    const r = await runSandbox([abi, 'sysenter'], { platform, timeoutMs });
    expect(r.code, `native status ${status}\n${describeResult(r)}`).toBe(status);
    expect(r.stdout).toBe(native.stdout);
  });
});
