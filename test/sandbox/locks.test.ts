// File locks between processes: POSIX record locks (splitting, release on any close,
// EDEADLK), OFD locks and flock, compared with the native run of fixture locks.c; and a
// shell tool that serialises on flock.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  busybox, describeResult, fixture, haveBusybox, platforms, runNative, runSandbox, skipBecause,
} from '../helpers/run';

const noTools = skipBecause(!haveBusybox || !existsSync('/usr/bin/flock'),
  `${busybox} or /usr/bin/flock (util-linux) not found`);
let dir = '';
beforeAll(() => { dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-locks-')); });
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe.each(platforms)('%s', (platform) => {
  it('record, OFD and flock locks behave as natively', async () => {
    const native = await runNative([fixture('locks'), dir], { timeoutMs: 30_000 });
    const r = await runSandbox([fixture('locks'), dir], { platform, timeoutMs: 30_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(native.code);
  }, 60_000);

  it.skipIf(noTools)('flock(1) serialises two shells', async () => {
    const script = 'touch /tmp/l; for i in 1 2; do (/usr/bin/flock /tmp/l sh -c "echo in $i; sleep 0.2; echo out $i") & done; wait';
    const r = await runSandbox([busybox, 'sh', '-c', script], { platform, timeoutMs: 30_000 });
    const lines = r.stdout.trim().split('\n');
    expect(lines.length, describeResult(r)).toBe(4);
    // Whoever got in first got out before the other got in.
    expect(lines[1].replace('out', 'in')).toBe(lines[0]);
    expect(lines[3].replace('out', 'in')).toBe(lines[2]);
  });
});
