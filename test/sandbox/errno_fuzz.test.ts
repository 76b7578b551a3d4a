// The differential errno fuzzer (fixture errno_fuzz.c): thousands of syscalls with hostile
// arguments from fixed seeds, natively and in the sandbox, line by line the same — which
// error Linux reports when several apply is the spec. The native run needs a tmpfs scratch
// directory (the sandbox's writable layer behaves as tmpfs: directory seeks, size limits)
// and a kernel of the behaviour we follow (6.13+: *xattrat, getname_maybe_null's stat path).
import { existsSync, mkdtempSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

const TMPFS_MAGIC = 0x01021994;
const [major, minor] = release().split('.').map(Number);
const oldHost = major < 6 || (major === 6 && minor < 13);
const shm = existsSync('/dev/shm') && statfsSync('/dev/shm').type === TMPFS_MAGIC ? '/dev/shm' : null;
const skip = skipBecause(oldHost, `host kernel ${release()} predates 6.13, whose order of checks the sandbox follows`) ||
  skipBecause(shm === null, 'no tmpfs at /dev/shm for the native scratch directory');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(skip).each([1, 2])('seed %i: 3000 hostile calls fail (or not) as on Linux', async (seed) => {
    const nativeDir = mkdtempSync(path.join(shm ?? tmpdir(), 'tsvisor-errno-'));
    const sandboxDir = mkdtempSync(path.join(tmpdir(), 'tsvisor-errno-'));
    try {
      const argv = [fixture('errno_fuzz'), String(seed), '3000'];
      const native = await runNative(argv, { cwd: nativeDir, timeoutMs: 60_000 });
      expect(native.code, describeResult(native)).toBe(0);
      const r = await runSandbox(argv, { platform, extraArgs: ['--cwd', sandboxDir], timeoutMs: 300_000 });
      expect(r.code, describeResult(r)).toBe(0);
      const want = native.stdout.split('\n'), got = r.stdout.split('\n');
      const diff = want.map((l, i) => (l === got[i] ? null : `native: ${l}\nsandbox: ${got[i]}`)).filter((d) => d !== null);
      expect(diff.slice(0, 20), `${diff.length} lines differ`).toEqual([]);
      expect(got.length).toBe(want.length);
      // The scratch files the sandbox made stay in its memory overlay.
      expect(readdirSync(sandboxDir)).toEqual([]);
    } finally {
      rmSync(nativeDir, { recursive: true, force: true });
      rmSync(sandboxDir, { recursive: true, force: true });
    }
  }, 400_000);
});
