// The hangs of issue 12: each subcommand of hangs.c must end in the sandbox as it does
// natively (same output, same status), and fast: a hang fails the test in seconds.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, shellStatus } from '../helpers/run';

const TIMEOUT_MS = 15_000;

describe.each(platforms)('%s', (platform) => {
  const same = async (cmd: string): Promise<void> => {
    const argv = [fixture('hangs'), cmd];
    const native = await runNative(argv, { timeoutMs: TIMEOUT_MS });
    expect(native.stderr).not.toContain('killed after');
    const r = await runSandbox(argv, { platform, timeoutMs: TIMEOUT_MS });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(shellStatus(r), describeResult(r)).toBe(shellStatus(native));
  };

  it('execve from the main thread of a multi-threaded process (de_thread)', () => same('exec-main'));
  it('execve from a sibling thread: it takes the pid', () => same('exec-thread'));
  it('waitid WSTOPPED/WCONTINUED without WEXITED and only a zombie: ECHILD', () => same('waitid-zombie'));
  it('robust mutexes: owner thread exits, process exits, execs, is killed', () => same('robust'));
  it('robust list walk: futex_offset, list_op_pending, WAITERS, a circular list', () => same('robust-raw'));
  it('closing a pipe end under a blocked reader or writer', () => same('pipe-close'));
  it('a handler overflowing its alternate stack dies of SIGSEGV (other signal)', () => same('altstack-usr1'));
  it('a SIGSEGV handler overflowing its alternate stack dies of SIGSEGV', () => same('altstack-segv'));
}, 60_000);
