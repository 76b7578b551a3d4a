// Set-user-ID and set-group-ID bits taken off by a write, a truncation or a chown (pjdfstest's
// chmod/12 and chown/00 found both missing): setid_drop.c compared with the native run, in the
// memory overlay and on a --volume (where the host would not drop them: the sentry writes
// with CAP_FSETID).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeResult, expectSameAsNativeInFreshDir, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run needs root (it writes as another uid and chowns to root)');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('writes, truncations and chowns drop set-id bits as natively', async () => {
    await expectSameAsNativeInFreshDir('setid_drop', 'setid-drop-', platform, 120_000);
  }, 240_000);

  it.skipIf(notRoot)('the same on a --volume', async () => {
    const nd = mkdtempSync(path.join(tmpdir(), 'setid-drop-n-')), vd = mkdtempSync(path.join(tmpdir(), 'setid-drop-v-'));
    try {
      const native = await runNative([fixture('setid_drop'), nd], { timeoutMs: 120_000 });
      expect(native.code, describeResult(native)).toBe(0);
      const r = await runSandbox([fixture('setid_drop'), '/v'], { platform, extraArgs: ['--volume', `${vd}:/v`], timeoutMs: 120_000 });
      expect(r.stdout, describeResult(r)).toBe(native.stdout);
      expect(r.code).toBe(0);
    } finally {
      rmSync(nd, { recursive: true, force: true });
      rmSync(vd, { recursive: true, force: true });
    }
  }, 240_000);
});
