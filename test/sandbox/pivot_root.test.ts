// pivot_root(2) (syscalls/linux/sys_pivot_root.ts, MountNamespace.pivot) compared with the
// native run of pivot_root.c in a private mount namespace of its own: the errnos in Linux's
// order, the pivot with the old root on put_old, cwd and execve in the new root, the lazy
// unmount of the old root, pivot_root(".", "."), and a recursive bind of / onto a directory
// of a mount below it (before: the sentry recursed without end and the mount was EIO).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run pivots (in a mount namespace of its own): it needs root');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('pivot_root behaves as natively', async () => {
    const fresh = (): string => mkdtempSync(path.join(tmpdir(), 'tsvisor-pivot-'));
    const nd = fresh(), sd = fresh();
    try {
      const native = await runNative([fixture('pivot_root'), nd], { timeoutMs: 60_000 });
      expect(native.code, describeResult(native)).toBe(0);
      const r = await runSandbox([fixture('pivot_root'), sd], { platform, timeoutMs: 60_000 });
      expect(r.stdout.replaceAll(sd, 'DIR'), describeResult(r)).toBe(native.stdout.replaceAll(nd, 'DIR'));
      expect(r.code).toBe(0);
    } finally {
      rmSync(nd, { recursive: true, force: true });
      rmSync(sd, { recursive: true, force: true });
    }
  }, 120_000);
});
