// Named pipes: mkfifo and the open rules, data between processes, EOF/EPIPE, poll and the
// buffer's life (fixture fifo.c, compared with the native run), and a shell using one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  busybox, describeResult, fixture, haveBusybox, platforms, runNative, runSandbox, skipBecause,
} from '../helpers/run';

const noBusybox = skipBecause(!haveBusybox, `${busybox} not found (apt-get install busybox-static)`);
let dir = '';
beforeAll(() => { dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-fifo-')); });
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe.each(platforms)('%s', (platform) => {
  it('FIFOs behave as natively', async () => {
    const native = await runNative([fixture('fifo'), dir]);
    // The sandbox makes its FIFO in its own memory, over the same (host) directory name.
    const r = await runSandbox([fixture('fifo'), dir], { platform, timeoutMs: 30_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(native.code);
  });

  it.skipIf(noBusybox)('a shell pipes through a FIFO and an O_RDWR fd', async () => {
    const r = await runSandbox([busybox, 'sh', '-c',
      'mkfifo /tmp/ff; (echo through-fifo > /tmp/ff &); cat /tmp/ff; exec 3<>/tmp/ff; echo rdwr >&3; read x <&3; echo $x'],
    { platform, timeoutMs: 30_000 });
    expect(r.stdout, describeResult(r)).toBe('through-fifo\nrdwr\n');
    expect(r.code).toBe(0);
  });
});
