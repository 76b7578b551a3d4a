// A lock wait on a --volume file interrupted by a signal (fixture gofer_lock_intr.c, compared
// with its native run on a host directory): F_SETLKW, F_OFD_SETLKW and flock on a file another
// process of the sandbox holds end with EINTR under a handler without SA_RESTART, and are
// restarted with it. No 9P request waits for the lock: the sandbox's locks are the sentry's
// (as gVisor's are), so the wait is an ordinary interruptible one and the gofer is never
// asked to block (PROTOCOL.md, "Requests that could wait").
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

const made: string[] = [];
afterAll(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

describe.each(platforms)('%s', (platform) => {
  it('lock waits on a volume file: EINTR, or a restart with SA_RESTART, as natively', async () => {
    const native = mkdtempSync(path.join(tmpdir(), 'tsvisor-lockintr-native-'));
    const vol = mkdtempSync(path.join(tmpdir(), 'tsvisor-lockintr-vol-'));
    made.push(native, vol);
    const n = await runNative([fixture('gofer_lock_intr'), native], { timeoutMs: 30_000 });
    expect(n.code, describeResult(n)).toBe(0);
    expect(n.stdout).toContain('flock without SA_RESTART: -1 EINTR');
    const r = await runSandbox([fixture('gofer_lock_intr'), '/vol'], { platform, timeoutMs: 60_000, extraArgs: ['--volume', `${vol}:/vol`] });
    expect(r.stdout, describeResult(r)).toBe(n.stdout);
    expect(r.code).toBe(0);
    expect(readdirSync(vol)).toEqual([]);
  }, 120_000);
});
