// A FIFO on a --volume (fixture gofer_fifo.c, compared with the native run on a host
// directory): its pipe is the sentry's, as on Linux's v9fs, so an open that waits for the
// other side waits in the sentry, not in the gofer: the other processes of the sandbox keep
// running meanwhile, a handled signal interrupts the open or a read (EINTR, or a restart
// with SA_RESTART), and data goes through as natively. A FIFO of the host tree under the
// root is the sandbox's own pipe too (overlayfs opens the inode's pipe, not the host's).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
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

  it('a FIFO of the host tree under the root (the overlay\'s lower layer) is a pipe of the sandbox', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-fifo-lower-'));
    made.push(dir);
    const fifo = path.join(dir, 'ff');
    execFileSync('mkfifo', [fifo]);
    const script = `exec 3<>${fifo}; echo through >&3; read x <&3; echo $x; exec 3<&-; (sleep 0.2; echo late > ${fifo}) & cat ${fifo}`;
    const n = await runNative(['/bin/sh', '-c', script], { timeoutMs: 30_000 });
    expect(n.stdout).toBe('through\nlate\n');
    const r = await runSandbox(['/bin/sh', '-c', script], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(n.stdout);
    expect(r.code).toBe(0);
  }, 120_000);
});
