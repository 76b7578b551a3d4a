// remap_file_pages, emulated by mmap as Linux does since 4.0, compared with the native run
// of fixture remap_file_pages.c on a tmpfs file and on a file of /tmp (the overlay here).
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

const noShm = skipBecause(!existsSync('/dev/shm'), '/dev/shm (tmpfs) not found on the host');

async function compare(platform: string, dir: string): Promise<void> {
  const native = await runNative([fixture('remap_file_pages'), dir], { timeoutMs: 30_000 });
  expect(native.code, describeResult(native)).toBe(0);
  expect(native.stdout).toContain('after: DACD');
  const r = await runSandbox([fixture('remap_file_pages'), dir], { platform, timeoutMs: 60_000 });
  expect(r.stdout, describeResult(r)).toBe(native.stdout);
  expect(r.code).toBe(native.code);
}

describe.each(platforms)('%s', (platform) => {
  it.skipIf(noShm)('remaps pages of a shared tmpfs mapping as natively', () => compare(platform, '/dev/shm'), 120_000);
  it('remaps pages of a shared mapping of a /tmp file as natively', () => compare(platform, tmpdir()), 120_000);
});
