// ptrace(2) between sandboxed processes, differentially: a tracer forks a tracee and prints
// every stop, register and memory access, syscall rewrite, signal injection and event it
// sees (fixtures/ptrace_*.c), as natively; and real tracers (strace, gdb) run inside.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { expectSameAsNative, fixture, platforms, runSandbox, skipBecause } from '../helpers/run';

const T = 180_000;

describe.each(platforms)('%s', (platform) => {
  it('a tracer sees stops, registers, memory, syscalls, signals and events as natively', async () => {
    await expectSameAsNative([fixture('ptrace_trace')], platform, T);
  }, T);

  it('SEIZE, INTERRUPT, LISTEN, group-stop, ATTACH of a stopped process, DETACH, EXITKILL as natively', async () => {
    await expectSameAsNative([fixture('ptrace_seize')], platform, T);
  }, T);

  it('a fixed-seed fuzzer of ptrace requests leaves the sentry alive', async () => {
    const r = await runSandbox([fixture('ptrace_fuzz'), '3000'], { platform, timeoutMs: T - 10_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('fuzz done: 3000 requests\n');
    expect(r.stderr).not.toMatch(/internal error|sentry failure/);
  }, T);

  it('strace -f follows a pipeline', async () => {
    if (skipBecause(!existsSync('/usr/bin/strace'), 'no /usr/bin/strace on this host')) return;
    const r = await runSandbox(['/usr/bin/strace', '-f', '-e', 'trace=execve,exit_group', '/bin/sh', '-c', 'echo hi | cat'], { platform, timeoutMs: T - 10_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('hi\n');
    expect(r.stderr).toMatch(/execve\("\/usr\/bin\/cat", \["cat"\]/);
    expect(r.stderr).toMatch(/\+\+\+ exited with 0 \+\+\+/);
    expect(r.stderr).not.toMatch(/PTRACE_TRACEME|Function not implemented/);
  }, T);
});
