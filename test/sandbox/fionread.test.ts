// FIONREAD on pipes (either end), FIFOs, regular files of each file system (tmpfs, the
// root's lower layer, a --volume, /proc: size less position, negative past the end),
// sockets, and files that answer ENOTTY, compared with Linux. Java's
// FileInputStream.available() asks it of a child's pipe and failed with "Illegal seek".
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('FIONREAD answers as on Linux', async () => {
    const native = await runNative([fixture('fionread')]);
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox([fixture('fionread')], { platform });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
  });

  it('FIONREAD of a --volume file answers as on Linux', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-fionread-'));
    try {
      const native = await runNative([fixture('fionread'), dir]);
      expect(native.code, describeResult(native)).toBe(0);
      const r = await runSandbox([fixture('fionread'), '/v'], { platform, extraArgs: ['--volume', `${dir}:/v`] });
      expect(r.stdout, describeResult(r)).toBe(native.stdout);
      expect(r.code, describeResult(r)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
