// Containment: hostile programs that attack the platform's own machinery (thread start-up,
// the shared message pages, the host signal mask, syscall numbers the host's seccomp skips).
// Each asserts its outcome on every platform and checks the host side: no file created on
// the host, the sentry still up, the process ended as Linux would end it.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, leftOutOfKvmCi, platforms, runSandbox, TIME_SCALE } from '../helpers/run';

function sentryStayedUp(stderr: string): void {
  expect(stderr).not.toMatch(/internal error|sentry failure|TypeError|RangeError/);
}

describe.each(platforms)('%s', (platform) => {
  // The escape the review found: a new stub thread installing a seccomp program that the
  // application wrote into its slot (a reused slot, a fresh one, or its start-up stack).
  // Before the fix, "fresh" escaped in about one run of three at 300 iterations. (Time
  // limits are generous: thread creation is slow when the machine is loaded.)
  it.each(['reuse', 'fresh', 'stack'])(
    'racing stub thread start-up (%s slot) never runs a thread without its filter',
    async (mode) => {
      const marker = path.join(tmpdir(), `tsvisor-slot-${platform}-${mode}-${process.pid}`);
      rmSync(marker, { force: true });
      const r = await runSandbox([fixture('hostile_slot'), mode, marker, '400'], { platform, timeoutMs: 100_000 });
      expect(existsSync(marker), `${marker} was created on the host\n${describeResult(r)}`).toBe(false);
      expect(r.stdout, describeResult(r)).toBe(`${mode}: contained\n`);
      expect(r.code, describeResult(r)).toBe(0);
      sentryStayedUp(r.stderr);
      rmSync(marker, { force: true });
    },
    120_000 * TIME_SCALE,
  );

  // systrap applies a fork's mappings through a table of syscalls its stub's leader runs
  // (crates/systrap/src/batch.rs); the application races forged entries into it.
  it('forging the stub\'s batch table while forking maps nothing foreign', async () => {
    const r = await runSandbox([fixture('hostile_batch'), '150'], { platform, timeoutMs: 100_000 });
    expect(r.stdout, describeResult(r)).toBe('batch: contained\n');
    expect(r.code, describeResult(r)).toBe(0);
    sentryStayedUp(r.stderr);
  }, 120_000 * TIME_SCALE);

  // systrap keeps an exited process's stub for the next fork (crates/systrap/src/recycle.rs):
  // nothing the old process left in its registers, FP state or thread slots may be readable
  // by the next. On systrap the reader must have seen an old process's slots (the stub was
  // reused), wiped; elsewhere there are no slots to see.
  // With a seed: leavers of random shapes (more threads, threads still running at the exit,
  // killed by SIGKILL; readers by execve), a fixed-seed fuzz of the same property.
  it.each([['none', ''], ['0x5eed', '0x5eed']])('an exited process\'s secrets are not readable from its stub by the next process (seed %s)', async (_label, seed) => {
    const rounds = 20;
    const args = [fixture('hostile_stub_reuse'), String(rounds), ...(seed ? [seed] : [])];
    const r = await runSandbox(args, { platform, timeoutMs: 100_000 });
    const m = /^stub reuse: clean, (\d+) rounds, (\d+) saw an old slot\n$/.exec(r.stdout);
    expect(m, describeResult(r)).not.toBeNull();
    expect(r.code, describeResult(r)).toBe(0);
    if (platform === 'systrap') expect(Number(m![2]), describeResult(r)).toBeGreaterThan(0);
    else expect(Number(m![2]), describeResult(r)).toBe(0);
    sentryStayedUp(r.stderr);
  }, 120_000 * TIME_SCALE);

  it('forged events in the message page kill the forger, not the sentry', async () => {
    const r = await runSandbox([fixture('hostile_forge')], { platform, timeoutMs: 30_000 });
    expect(r.code, describeResult(r)).toBe(0);
    const modes = ['fault-signal-0', 'fault-signal-65', 'fault-signal-200', 'fault-signal-9', 'kind-7', 'syscall-abi-5'];
    // systrap: the forged event is refused and the process is SIGKILLed. ptrace has no
    // message page (no GS base to find it by): the child says so and exits 42.
    const outcome = platform === 'systrap' ? 'killed by 9' : 'exited 42';
    expect(r.stdout, describeResult(r)).toBe(modes.map((m) => `${m}: ${outcome}\n`).join('') + 'parent still up\n');
    sentryStayedUp(r.stderr);
  }, 40_000 * TIME_SCALE);

  it('a thread that blocked the interrupt signal on the host can still be killed', async () => {
    const r = await runSandbox([fixture('hostile_sigmask')], { platform, timeoutMs: 20_000 });
    // ptrace and kvm run no stub code for the program (ptrace emulates sigreturn; kvm's stub
    // is supervisor-only, in the upper half): the stub's address faults as unmapped memory and
    // the attack dies at its first step with SIGSEGV.
    // On systrap, the deaf thread that shares its address space with another process can be
    // ended only with that address space: its sharer dies with it (SIGKILL), after a grace.
    const expected = platform === 'ptrace' || platform === 'kvm'
      ? 'killed from the parent: signal 11\nexit_group from a sibling: signal 11\nsharing the address space: exit 111\n'
      : 'killed from the parent: signal 9\nexit_group from a sibling: exit 3\nsharing the address space: signal 9\n';
    expect(r.stdout, describeResult(r)).toBe(expected);
    expect(r.code, describeResult(r)).toBe(0);
    sentryStayedUp(r.stderr);
  }, 30_000 * TIME_SCALE);

  it('syscall numbers the host lets past seccomp reach the sentry', async () => {
    const r = await runSandbox([fixture('hostile_nr')], { platform, timeoutMs: 20_000 });
    expect(r.code, describeResult(r)).toBe(0);
    const nrs = [335, 336, 337, 400, 511, 1000, 0x40000000 + 39, 0x40000000 + 335, -2];
    expect(r.stdout).toBe(nrs.map((n) => `${n}: -1 ENOSYS\n`).join(''));
    sentryStayedUp(r.stderr);
  });
});

describe.each(platforms)('%s: syscall fuzzer', (platform) => {
  // Fixed seeds: a failure reproduces with `tsvisor run -- fuzz_syscalls SEED 20000`. CI's
  // KVM step runs the first (each seed ~85 s of emulated CPU there; the host runs all three).
  const trimmed = (seed: number): boolean =>
    seed > 1 && leftOutOfKvmCi(platform, `the syscall fuzzer's seed ${seed} (seed 1 runs)`);
  // And of seed 1 the first 4000 calls: its 20000 ran past 300 s there at host load ~15
  // (session 26), more than CI's limit for a whole file.
  const calls = leftOutOfKvmCi(platform, 'the syscall fuzzer\'s calls after the first 4000 of seed 1') ? 4000 : 20000;
  for (const seed of [1, 2, 3]) it.skipIf(trimmed(seed))(`seed ${seed}: ${calls} random calls leave the sentry up and the host untouched`, async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'tsvisor-fuzz-'));
    const hostFile = '/tmp/tsvisor-fuzz-file';
    const existed = existsSync(hostFile);
    try {
      const r = await runSandbox([fixture('fuzz_syscalls'), String(seed), String(calls)], {
        platform, extraArgs: ['--cwd', cwd], timeoutMs: 200_000,
      });
      expect(r.stdout, describeResult(r)).toMatch(new RegExp(`^fuzzed ${calls} calls in \\d+ batches\n$`));
      expect(r.code, describeResult(r)).toBe(0);
      sentryStayedUp(r.stderr);
      expect(readdirSync(cwd), 'files the fuzzer made reached the host').toEqual([]);
      if (!existed) expect(existsSync(hostFile), `${hostFile} was created on the host`).toBe(false);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 240_000 * TIME_SCALE);
});
