// fallocate(2) and SEEK_HOLE on a --volume file: the host file system does the work through
// the donated fd, so the answers are the native ones for a file in the same host directory
// (they were EOPNOTSUPP for every mode, and SEEK_HOLE saw no holes).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('fallocate on a --volume file answers as the host file system does natively', async () => {
    const nativeDir = mkdtempSync(path.join(tmpdir(), 'tsvisor-falloc-n-'));
    const volDir = mkdtempSync(path.join(tmpdir(), 'tsvisor-falloc-v-'));
    try {
      const native = await runNative([fixture('fallocate_vol'), nativeDir]);
      expect(native.code, describeResult(native)).toBe(0);
      const r = await runSandbox([fixture('fallocate_vol'), '/v'], { platform, extraArgs: ['--volume', `${volDir}:/v`] });
      expect(r.stdout, describeResult(r)).toBe(native.stdout);
      expect(r.code, describeResult(r)).toBe(0);
    } finally {
      rmSync(nativeDir, { recursive: true, force: true });
      rmSync(volDir, { recursive: true, force: true });
    }
  });
});
