// A FIFO on a --volume (fixture gofer_fifo.c, compared with the native run on a host
// directory): its pipe is the sentry's, as on Linux's v9fs, so an open that waits for the
// other side waits in the sentry, not in the gofer: the other processes of the sandbox keep
// running meanwhile, a handled signal interrupts the open or a read (EINTR, or a restart
// with SA_RESTART), and data goes through as natively.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

const made: string[] = [];
afterAll(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

describe.each(platforms)('%s', (platform) => {
  it('a FIFO on a volume: waits, signals and data as natively', async () => {
    const native = mkdtempSync(path.join(tmpdir(), 'tsvisor-fifo-native-'));
    const vol = mkdtempSync(path.join(tmpdir(), 'tsvisor-fifo-vol-'));
    made.push(native, vol);
    const n = await runNative([fixture('gofer_fifo'), native], { timeoutMs: 60_000 });
    expect(n.code, describeResult(n)).toBe(0);
    expect(n.stdout).toContain('open without SA_RESTART: Interrupted system call');
    const r = await runSandbox([fixture('gofer_fifo'), '/vol'], { platform, timeoutMs: 90_000, extraArgs: ['--volume', `${vol}:/vol`] });
    expect(r.stdout, describeResult(r)).toBe(n.stdout);
    expect(r.code).toBe(0);
    // The FIFO was made on the host (through the gofer) and removed again.
    expect(readdirSync(vol)).toEqual([]);
  }, 150_000);
});
