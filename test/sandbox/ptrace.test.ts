// ptrace(2) between sandboxed processes, differentially: a tracer forks a tracee and prints
// every stop, register and memory access, syscall rewrite, signal injection and event it
// sees (fixtures/ptrace_*.c), as natively; and real tracers (strace, gdb) run inside.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { expectSameAsNative, fixture, platforms, runSandbox, skipBecause } from '../helpers/run';

const T = 180_000;
const GDB = '/usr/bin/gdb';
const STRACE = '/usr/bin/strace';

describe.each(platforms)('%s', (platform) => {
  it('a tracer sees stops, registers, memory, syscalls, signals and events as natively', async () => {
    await expectSameAsNative([fixture('ptrace_trace')], platform, T);
  }, T);

  it('SEIZE, INTERRUPT, LISTEN, group-stop, ATTACH of a stopped process, DETACH, EXITKILL as natively', async () => {
    await expectSameAsNative([fixture('ptrace_seize')], platform, T);
  }, T);

  it('SECCOMP_RET_TRACE stops for a tracer with PTRACE_O_TRACESECCOMP, which may skip or change the call', async () => {
    await expectSameAsNative([fixture('ptrace_seccomp')], platform, T);
  }, T);

  it('a fixed-seed fuzzer of ptrace requests leaves the sentry alive', async () => {
    const r = await runSandbox([fixture('ptrace_fuzz'), '3000'], { platform, timeoutMs: T - 10_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('fuzz done: 3000 requests\n');
    expect(r.stderr).not.toMatch(/internal error|sentry failure/);
  }, T);

  it('gdb runs a crashing program and shows the backtrace as natively', async () => {
    if (skipBecause(!existsSync(GDB), 'no /usr/bin/gdb on this host')) return;
    await expectSameAsNative([GDB, '-batch', '-ex', 'run', '-ex', 'bt', '--args', fixture('ptrace_crasher')], platform, T);
  }, T);

  it('gdb stops at a breakpoint, steps an instruction, writes a register, continues, as natively', async () => {
    if (skipBecause(!existsSync(GDB), 'no /usr/bin/gdb on this host')) return;
    await expectSameAsNative([GDB, '-batch', '-ex', 'break crash_here', '-ex', 'run', '-ex', 'p $rdi', '-ex', 'stepi',
      '-ex', 'p $pc', '-ex', 'set var $rdi=5', '-ex', 'continue', '-ex', 'p $_siginfo.si_signo',
      '-ex', 'p $_siginfo._sifields._sigfault.si_addr', '--args', fixture('ptrace_crasher')], platform, T);
  }, T);

  it('strace -c counts and strace -e trace=openat filters', async () => {
    if (skipBecause(!existsSync(STRACE), 'no /usr/bin/strace on this host')) return;
    const c = await runSandbox([STRACE, '-c', '/bin/true'], { platform, timeoutMs: T - 10_000 });
    expect(c.code).toBe(0);
    expect(c.stderr).toMatch(/execve/);
    expect(c.stderr).toMatch(/100\.00 .* total/);
    const e = await runSandbox([STRACE, '-e', 'trace=openat', '/bin/ls', '/'], { platform, timeoutMs: T - 10_000 });
    expect(e.code).toBe(0);
    expect(e.stdout).toMatch(/^proc$/m);
    expect(e.stderr).toMatch(/openat\(AT_FDCWD, "\/", O_RDONLY\|O_NONBLOCK\|O_CLOEXEC\|O_DIRECTORY\) = 3/);
    expect(e.stderr).not.toMatch(/^(read|write|close)\(/m);
  }, T);

  it('strace -f follows a pipeline', async () => {
    if (skipBecause(!existsSync(STRACE), 'no /usr/bin/strace on this host')) return;
    const r = await runSandbox([STRACE, '-f', '-e', 'trace=execve,exit_group', '/bin/sh', '-c', 'echo hi | cat'], { platform, timeoutMs: T - 10_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('hi\n');
    expect(r.stderr).toMatch(/execve\("\/usr\/bin\/cat", \["cat"\]/);
    expect(r.stderr).toMatch(/\+\+\+ exited with 0 \+\+\+/);
    expect(r.stderr).not.toMatch(/PTRACE_TRACEME|Function not implemented/);
  }, T);
});
