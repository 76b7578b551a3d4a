// Signal-driven I/O (F_SETOWN/F_SETOWN_EX/F_SETSIG, O_ASYNC via F_SETFL and FIOASYNC,
// FIOSETOWN/SIOCGPGRP) on pipes, FIFOs and unix sockets, and pipe sizes (F_SETPIPE_SZ,
// /proc/sys/fs/pipe-max-size): compared with the native runs of fcntl_async.c and
// pipe_size.c; the sysctl write that natively would change the host runs in the sandbox only.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSameAsCurrentKernel, hostKernelBefore, type LineEdit } from '../helpers/native_kernel';
import { describeResult, expectSameAsNative, fixture, platforms, runSandbox, skipBecause } from '../helpers/run';

/** Linux 6.5 ("pipe: Pass argument of pipe_fcntl as int") reads F_SETPIPE_SZ's argument as an
 *  unsigned int: 2^32+4096 is 4096 there; before, the whole long was too big (EINVAL). */
const PIPE_ARG_6_5: LineEdit[] = skipBecause(hostKernelBefore(6, 5),
  'host kernel predates 6.5: F_SETPIPE_SZ takes the whole long there (2^32+4096 is EINVAL), the sandbox\'s unsigned int is checked against that line instead')
  ? [{ old: /^set 2\^32\+4096 \(an unsigned int arg\) = -1 EINVAL\n/m, now: 'set 2^32+4096 (an unsigned int arg) = 4096\n' }] : [];

let dir = '';
beforeAll(() => { dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-fasync-')); });
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe.each(platforms)('%s', (platform) => {
  it('owners, signals and O_ASYNC behave as natively', async () => {
    await expectSameAsNative([fixture('fcntl_async'), dir], platform, 60_000);
  }, 120_000);

  it('pipe sizes behave as natively', async () => {
    await expectSameAsCurrentKernel([fixture('pipe_size'), dir], platform, PIPE_ARG_6_5, 60_000);
  }, 120_000);

  it('pipe-max-size, lowered by root, bounds an unprivileged F_SETPIPE_SZ', async () => {
    const r = await runSandbox([fixture('pipe_size'), '/tmp', 'sysctl'], { platform, timeoutMs: 60_000 });
    expect(r.code, describeResult(r)).toBe(0);
    const tail = r.stdout.slice(r.stdout.indexOf('write 5000'));
    expect(tail).toBe([
      'write 5000 = 5',
      'pipe-max-size now: 8192',
      'unprivileged open for writing = -1 EACCES',
      'unprivileged new pipe\'s size = 8192',
      'unprivileged set 16384 (above the limit) = -1 EPERM',
      'unprivileged set 4096 = 4096',
      'unprivileged grow to 16384 = -1 EPERM',
      'unprivileged grow to 8192 = 8192',
      '',
    ].join('\n'));
  }, 120_000);
});
