// mount(2)/umount2(2) (syscalls/linux/sys_mount.ts, vfs/mount.ts) compared with the native
// run of mounts.c, which runs in a private mount namespace of its own under a fresh
// directory: tmpfs with options, bind mounts (directory, file, recursive), stacking,
// remounts, propagation types, MS_MOVE, busy/lazy/expiring unmounts and the errnos.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run mounts (in a namespace of its own): it needs root');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('mounts and unmounts as natively', async () => {
    const fresh = (): string => mkdtempSync(path.join(tmpdir(), 'tsvisor-mounts-'));
    const nd = fresh(), sd = fresh();
    try {
      const native = await runNative([fixture('mounts'), nd], { timeoutMs: 60_000 });
      expect(native.code, describeResult(native)).toBe(0);
      // The sandbox's writes land in its memory overlay; the directory must exist there too.
      const r = await runSandbox([fixture('mounts'), sd], { platform, timeoutMs: 60_000 });
      expect(r.stdout.replaceAll(sd, 'DIR'), describeResult(r)).toBe(native.stdout.replaceAll(nd, 'DIR'));
      expect(r.code).toBe(0);
    } finally {
      rmSync(nd, { recursive: true, force: true });
      rmSync(sd, { recursive: true, force: true });
    }
  }, 120_000);
});
