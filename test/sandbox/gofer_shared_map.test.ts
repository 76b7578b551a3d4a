// MAP_SHARED mappings of a --volume file over many pages (ts/fsimpl/gofer/shared_cache.ts:
// runs of pages filled in one host read, written back a run at a time): mappings, read(2) and
// write(2) agree across cached and uncached pages, the partial last page is not grown by the
// mapping, and what reaches the host file after msync and munmap, compared with native.
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

let base = '';
let n = 0;
beforeAll(() => { base = fs.mkdtempSync(path.join(tmpdir(), 'tsvisor-gofer-shm-')); });
afterAll(() => { if (base) fs.rmSync(base, { recursive: true, force: true }); });

function freshDir(name: string): string {
  const d = path.join(base, `${name}-${n++}`);
  fs.mkdirSync(d);
  return d;
}

describe.each(platforms)('%s', (platform) => {
  it('shared mappings of a --volume file agree with read/write and reach the host as natively', async () => {
    const nativeDir = freshDir('native');
    const volDir = freshDir('vol');
    const native = await runNative([fixture('gofer_shared_map'), nativeDir], { timeoutMs: 30_000 });
    expect(native.code, describeResult(native)).toBe(0);
    expect(native.stdout).toMatch(/other mapping sees ACROSS, M\n/);
    const r = await runSandbox([fixture('gofer_shared_map'), nativeDir], {
      platform, timeoutMs: 50_000, extraArgs: ['--volume', `${volDir}:${nativeDir}`],
    });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(0);
    expect(fs.readdirSync(volDir)).toEqual([]);
  }, 60_000);
});
