// Lazy memslots end to end (issue 11): with 2 MiB chunks and 8 slots (TSVISOR_KVM_SLOT_CHUNK_MB,
// TSVISOR_KVM_SLOT_MAX, read by the kvm platform in the sentry), programs that touch far more
// memory than the slots cover at once, and fork, still give the native answers. The knobs
// reaching the platform is shown by a bad value stopping it with its reason. Runs only on
// the kvm platform (in the QEMU guest: test/kvm/guest_suite.mjs).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause, type RunOptions, type RunResult } from '../helpers/run';

const SMALL = { TSVISOR_KVM_SLOT_CHUNK_MB: '2', TSVISOR_KVM_SLOT_MAX: '8' };

/** runSandbox with `vars` in the sentry's environment (the child takes a copy at spawn). */
function sandboxWith(vars: Record<string, string>, argv: string[], opts: RunOptions): Promise<RunResult> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return runSandbox(argv, opts);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const onKvm = platforms.includes('kvm');

describe.skipIf(skipBecause(!onKvm, `the kvm platform is not in this run (${platforms.join(',') || 'none'}): memslots are kvm's`))('kvm memslots, 2 MiB chunks, 8 slots', () => {
  const opts: RunOptions = { platform: 'kvm', timeoutMs: 240_000 };

  it.each([
    ['touching 64 MiB', ['touch', '64']],
    ['a child touching 32 MiB', ['fork', '32']],
  ])('%s', async (_name, args) => {
    const argv = [fixture('memhog'), ...args];
    const native = await runNative(argv);
    expect(native.code, describeResult(native)).toBe(0);
    const r = await sandboxWith(SMALL, argv, opts);
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
  }, 300_000);

  it('malloc, brk, mmap/mprotect/mremap round trips', async () => {
    const native = await runNative([fixture('malloc')]);
    expect(native.code, describeResult(native)).toBe(0);
    const r = await sandboxWith(SMALL, [fixture('malloc')], opts);
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
  }, 300_000);

  it('--debug-log says which memslot mode is in effect, and eager on request runs too', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-memslots-'));
    const lazyLog = path.join(dir, 'lazy.log');
    const r = await sandboxWith(SMALL, [fixture('hello')], { ...opts, extraArgs: ['--debug-log', lazyLog] });
    expect(r.code, describeResult(r)).toBe(0);
    // Lazy where the CPU is AMD and KVM has the emulation-failure exit; else eager with why.
    expect(readFileSync(lazyLog, 'utf8')).toMatch(/ platform: kvm, as --platform asked; memslots (lazy: 2 MiB chunks, at most 8 slots|eager: (not AMD|KVM_CAP_EXIT_ON_EMULATION_FAILURE).*)\n/);
    const eagerLog = path.join(dir, 'eager.log');
    const e = await sandboxWith({ TSVISOR_KVM_SLOTS: 'eager' }, [fixture('hello')], { ...opts, extraArgs: ['--debug-log', eagerLog] });
    expect(e.code, describeResult(e)).toBe(0);
    expect(readFileSync(eagerLog, 'utf8')).toContain(' platform: kvm, as --platform asked; memslots eager: asked for (TSVISOR_KVM_SLOTS=eager)\n');
    rmSync(dir, { recursive: true, force: true });
  }, 300_000);

  it('a bad knob stops the platform with its reason', async () => {
    const r = await sandboxWith({ TSVISOR_KVM_SLOT_CHUNK_MB: '3' }, [fixture('hello')], opts);
    expect(r.code, describeResult(r)).toBe(125);
    expect(r.stderr, describeResult(r)).toContain('TSVISOR_KVM_SLOT_CHUNK_MB=3');
  }, 300_000);
});
