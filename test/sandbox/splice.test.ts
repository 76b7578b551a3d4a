// splice, tee and vmsplice compared with the native run of fixture splice.c.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

let dir = '';
beforeAll(() => { dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-splice-')); });
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe.each(platforms)('%s', (platform) => {
  it('splice, tee and vmsplice behave as natively', async () => {
    const native = await runNative([fixture('splice'), dir]);
    const r = await runSandbox([fixture('splice'), dir], { platform });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(native.code);
  });
});
