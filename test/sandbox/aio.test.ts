// Linux native AIO (io_setup/io_submit/io_getevents/io_pgetevents/io_cancel/io_destroy):
// the ring the process can read by hand, reads and writes on files and pipes, eventfd
// notification, IOCB_CMD_POLL and its cancellation, and every call's errnos, compared with
// the native run of aio.c; and a fuzzer of iocbs and of the ring's head from a fixed seed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeResult, expectSameAsNative, fixture, platforms, runSandbox } from '../helpers/run';

let dir = '';
beforeAll(() => { dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-aio-')); });
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe.each(platforms)('%s', (platform) => {
  it('AIO contexts, requests and events behave as natively', async () => {
    await expectSameAsNative([fixture('aio'), dir], platform, 60_000);
  }, 120_000);

  it('hostile iocbs and a scribbled ring (fixed seed) get errnos, not a crash', async () => {
    const r = await runSandbox([fixture('aio'), '/tmp', 'fuzz'], { platform, timeoutMs: 120_000 });
    expect(r.stdout, describeResult(r)).toBe('fuzz done\n');
    expect(r.code, describeResult(r)).toBe(0);
  }, 180_000);
});
