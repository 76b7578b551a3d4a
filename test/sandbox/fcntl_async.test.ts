// Signal-driven I/O (F_SETOWN/F_SETOWN_EX/F_SETSIG, O_ASYNC via F_SETFL and FIOASYNC,
// FIOSETOWN/SIOCGPGRP) on pipes, FIFOs and unix sockets, and pipe sizes (F_SETPIPE_SZ,
// /proc/sys/fs/pipe-max-size): compared with the native runs of fcntl_async.c and
// pipe_size.c; the sysctl write that natively would change the host runs in the sandbox only.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeResult, expectSameAsNative, fixture, platforms, runSandbox } from '../helpers/run';

let dir = '';
beforeAll(() => { dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-fasync-')); });
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe.each(platforms)('%s', (platform) => {
  it('owners, signals and O_ASYNC behave as natively', async () => {
    await expectSameAsNative([fixture('fcntl_async'), dir], platform, 60_000);
  }, 120_000);

  it('pipe sizes behave as natively', async () => {
    await expectSameAsNative([fixture('pipe_size'), dir], platform, 60_000);
  }, 120_000);

  it('pipe-max-size, lowered by root, bounds an unprivileged F_SETPIPE_SZ', async () => {
    const r = await runSandbox([fixture('pipe_size'), '/tmp', 'sysctl'], { platform, timeoutMs: 60_000 });
    expect(r.code, describeResult(r)).toBe(0);
    const tail = r.stdout.slice(r.stdout.indexOf('write 5000'));
    expect(tail).toBe([
      'write 5000 = 5',
      'pipe-max-size now: 8192',
      'unprivileged open for writing = -1 EACCES',
      'unprivileged shrink 65536 to 16384 (above the limit) = 16384',
      'unprivileged set 4096 = 4096',
      'unprivileged grow to 16384 = -1 EPERM',
      'unprivileged grow to 8192 = 8192',
      '',
    ].join('\n'));
  }, 120_000);
});
