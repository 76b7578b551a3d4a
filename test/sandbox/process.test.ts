// Processes and threads: fork/wait, pthreads, execve, signals, pipes, futexes, vfork and
// posix_spawn, and busybox sh pipelines. Each fixture prints only what is deterministic,
// and its output must match the native run's.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  busybox, describeResult, fixture, haveBusybox, platforms, runNative, runSandbox, skipBecause,
} from '../helpers/run';

const missingBusybox = skipBecause(!haveBusybox, `${busybox} not found (apt-get install busybox-static)`);

/** Files execve.c execs: the sandbox's execve reads them from the host. */
function execveFiles(): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-execve-'));
  const put = (name: string, body: string, mode: number): string => {
    const p = path.join(dir, name);
    writeFileSync(p, body);
    chmodSync(p, mode);
    return p;
  };
  return [
    put('script.sh', '#!/bin/busybox sh\necho script got "$@"\nexit 4\n', 0o755),
    put('badinterp.sh', '#!/nonexistent/interp\n', 0o755),
    put('noexec.sh', '#!/bin/busybox sh\n', 0o644),
    put('garbage', 'garbage\n', 0o755),
  ];
}

describe.each(platforms)('%s', (platform) => {
  const same = async (argv: string[]): Promise<void> => {
    const native = await runNative(argv);
    const r = await runSandbox(argv, { platform });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(native.code);
  };

  it('fork, wait4, waitid, exit statuses, orphans', () => same([fixture('fork_wait')]));
  it('pthreads: mutex, condition variable, join, exit with threads running', () => same([fixture('threads')]));
  it('signals: handlers, sigreturn, masks, alt stack, EINTR/SA_RESTART, faults', () => same([fixture('signals')]));
  it('a signal for the process goes to the thread Linux picks, not to the sender', () =>
    same([fixture('signal_target')]));
  it('pipes: blocking, O_NONBLOCK, EPIPE/SIGPIPE, EOF', () => same([fixture('pipe')]));
  it('futex: wait/wake, timeouts, bitsets, requeue, wake-op, shared', () => same([fixture('futex')]));
  it.skipIf(missingBusybox)('execve: programs, itself, scripts, close-on-exec, errors', () =>
    same([fixture('execve'), ...execveFiles()]));
  it.skipIf(missingBusybox)('vfork, posix_spawn, clone with a stack, clone/clone3 checks', () => same([fixture('vfork')]));

  it.skipIf(missingBusybox)('busybox sh: pipeline, &&, command substitution', async () => {
    const script = 'echo a | busybox wc -c; busybox true && echo ok; x=$(busybox echo sub); echo $x';
    await same([busybox, 'sh', '-c', script]);
  });

  it.skipIf(missingBusybox)('busybox sh: exit status of a killed child, subshells, loops', async () => {
    const script = 'busybox sh -c "kill -TERM \\$\\$"; echo status $?; (exit 3); echo sub $?; ' +
      'for i in 1 2 3; do echo $i; done | busybox tail -n 1; busybox seq 1 2000 | busybox sort -n | busybox tail -n 1';
    await same([busybox, 'sh', '-c', script]);
  });
});
