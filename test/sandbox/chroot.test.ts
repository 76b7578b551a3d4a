// chroot(2) (FSContext.root, vfs/task_fs.ts taskRoot): resolution below the new root, "..",
// symlinks, getcwd, /proc/self/root, fork and execve inside, no user namespace while
// chrooted, and the errnos, compared with the native run of chroot.c in a fresh directory
// (before, chroot to anything but the current root was EPERM).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run chroots: it needs root');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('chroot behaves as natively', async () => {
    const nd = mkdtempSync(path.join(tmpdir(), 'tsvisor-chroot-'));
    const sd = mkdtempSync(path.join(tmpdir(), 'tsvisor-chroot-'));
    try {
      const native = await runNative([fixture('chroot'), nd], { timeoutMs: 60_000 });
      expect(native.code, describeResult(native)).toBe(0);
      const r = await runSandbox([fixture('chroot'), sd], { platform, timeoutMs: 60_000 });
      expect(r.stdout, describeResult(r)).toBe(native.stdout);
      expect(r.code).toBe(0);
    } finally {
      rmSync(nd, { recursive: true, force: true });
      rmSync(sd, { recursive: true, force: true });
    }
  }, 120_000);
});
