// Exit statuses: the program's own, and 128+N when signal N killed it.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, shellStatus, skipBecause } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it.each([
    [['0'], 0, 'exiting 0\n'],
    [['7'], 7, 'exiting 7\n'],
    [['255'], 255, 'exiting 255\n'],
    [['_exit', '42'], 42, ''],
    [['return', '300'], 300 & 0xff, ''],
  ])('exitcode %j exits with %i', async (args, status, stdout) => {
    const r = await runSandbox([fixture('exitcode'), ...args], { platform });
    expect(r.code, describeResult(r)).toBe(status);
    expect(r.stdout).toBe(stdout);
  });

  it.skipIf(skipBecause(!existsSync('/usr/bin/python3'), 'no /usr/bin/python3'))('abort(): WTERMSIG 6 and no WCOREDUMP, since no core file is written (RLIMIT_CORE 0 natively)', async () => {
    const script = [
      'import os, resource',
      'pid = os.fork()',
      'if pid == 0:',
      '    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))',
      '    os.abort()',
      '_, st = os.waitpid(pid, 0)',
      'print(os.WIFSIGNALED(st), os.WTERMSIG(st), os.WCOREDUMP(st))',
    ].join('\n');
    const native = await runNative(['/usr/bin/python3', '-c', script]);
    expect(native.stdout).toBe('True 6 False\n');
    const r = await runSandbox(['/usr/bin/python3', '-c', script], { platform });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
  });

  it('a NULL write kills the program with SIGSEGV: status 139', async () => {
    const native = await runNative([fixture('exitcode'), 'segv']);
    expect(shellStatus(native)).toBe(139);
    const r = await runSandbox([fixture('exitcode'), 'segv'], { platform });
    expect(r.code, describeResult(r)).toBe(139);
    expect(r.stdout).toBe('before fault\n');
  });

  it('abort() kills the program with SIGABRT: status 134', async () => {
    const native = await runNative([fixture('exitcode'), 'abort']);
    expect(shellStatus(native)).toBe(134);
    const r = await runSandbox([fixture('exitcode'), 'abort'], { platform });
    expect(r.code, describeResult(r)).toBe(134);
    expect(r.stdout).toBe('before abort\n');
  });
});
