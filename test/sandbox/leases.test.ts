// File leases (F_SETLEASE/F_GETLEASE): taking them, EAGAIN on conflicting opens, the break a
// conflicting open starts (the holder's SIGIO or F_SETSIG signal with POLL_MSG; EWOULDBLOCK for
// O_NONBLOCK, a wait otherwise), downgrades, compared with the native run of leases.c; and the
// /proc/sys/fs/lease-break-time timeout, in the sandbox only (natively it is the host's).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeResult, expectSameAsNative, fixture, platforms, runSandbox, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the lease fixture takes a lease as root on a root-owned file and drops to nobody');
let dir = '';
beforeAll(() => { dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-leases-')); });
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('leases and their breaks behave as natively', async () => {
    await expectSameAsNative([fixture('leases'), dir], platform, 60_000);
  }, 120_000);

  it.skipIf(notRoot)('a holder that does not answer loses its lease after lease-break-time', async () => {
    const r = await runSandbox([fixture('leases'), '/tmp', 'breaktime'], { platform, timeoutMs: 60_000 });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toContain([
      'set lease-break-time 1 = 2',
      'lease-break-time: 1',
      'read lease = 0',
      'open ok after about 1 s',
      'lease after the break time: F_UNLCK',
    ].join('\n'));
  }, 120_000);
});
