// BSD process accounting compared with the native run of fixture acct.c: acct's errors,
// and the stable fields of the acct_v3 records of four children (plain exit, exec, killed,
// renamed), none after accounting is turned off.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run needs root (CAP_SYS_PACCT)');
let dir = '';
beforeAll(() => { dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-acct-')); });
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('writes accounting records as natively', async () => {
    const native = await runNative([fixture('acct'), dir], { timeoutMs: 30_000 });
    expect(native.code, describeResult(native)).toBe(0);
    expect(native.stdout).toContain('records of the four children: 4');
    const r = await runSandbox([fixture('acct'), dir], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(native.code);
  }, 120_000);
});
