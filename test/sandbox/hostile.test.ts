// Hostile programs: they attack the platform's stub from inside the sandbox (jumping onto its
// syscall instructions, scribbling over its shared messages, taking over its signals). Each
// must get no effect on the host — checked on the host side — and the sentry must stay up.
// On kvm there is no stub in the application's address space to find.
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runSandbox } from '../helpers/run';

function sentryStayedUp(stderr: string): void {
  expect(stderr).not.toMatch(/internal error|sentry failure/);
}

describe.each(platforms)('%s', (platform) => {
  it.each(['open', 'execve', 'socket', 'ptrace'])(
    'jumping onto a stub syscall instruction to %s does nothing on the host',
    async (mode) => {
      const marker = path.join(tmpdir(), `tsvisor-hostile-${platform}-${mode}-${process.pid}`);
      rmSync(marker, { force: true });
      const r = await runSandbox([fixture('hostile_stub'), mode, marker], { platform, timeoutMs: 15_000 });
      expect(existsSync(marker), `${marker} was created on the host`).toBe(false);
      if (platform === 'kvm') {
        // No stub in the application's address space on kvm (its ring-0 code sits in the
        // supervisor-only upper half): where the other platforms keep theirs nothing is
        // mapped, and the search itself faults (SIGSEGV), as it would natively.
        expect(r.stdout, describeResult(r)).toBe('');
        expect(r.code, describeResult(r)).toBe(139);
        sentryStayedUp(r.stderr);
        return;
      }
      expect(r.stdout, describeResult(r)).toContain('stub syscall found');
      if (platform === 'systrap') {
        // seccomp kills the stub at the jump: the program never sees a result.
        expect(r.stdout).not.toContain('returned');
        expect(r.code, describeResult(r)).toBeGreaterThan(128);
      } else if (platform === 'ptrace') {
        // The stub's code is where Linux would have nothing mapped for the program: it can
        // read it on this platform, but running it faults (SIGSEGV) at the jump, as natively.
        expect(r.stdout, describeResult(r)).toBe('stub syscall found\n');
        expect(r.code, describeResult(r)).toBe(139);
      }
      sentryStayedUp(r.stderr);
      rmSync(marker, { force: true });
    },
  );

  it('scribbling over the shared message pages kills at most the program', async () => {
    const r = await runSandbox([fixture('hostile_msg')], { platform });
    expect(r.stdout).toContain('scribbling');
    expect(r.code, describeResult(r)).not.toBe(125);
    expect(r.code).not.toBeNull();
    sentryStayedUp(r.stderr);
  });

  it('taking over SIGSYS/SIGSEGV/SIGCHLD does not take over the stub', async () => {
    const r = await runSandbox([fixture('hostile_sigaction')], { platform });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toBe('handlers: getpid ok\nignored: getpid ok\nblocked: getpid ok\n');
    sentryStayedUp(r.stderr);
  });
});
