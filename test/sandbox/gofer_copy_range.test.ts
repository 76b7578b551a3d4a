// copy_file_range and sendfile between gofer files: from the root's lower layer to a --volume
// and between two volume files (in the sandbox one host copy_file_range between the donated
// fds), and from the root into its memory overlay (through a sentry buffer): the bytes,
// counts, positions and offsets, holes, overlapping ranges within one file, and the errors,
// compared with the same program run natively.
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

let base = '';
let n = 0;
beforeAll(() => { base = fs.mkdtempSync(path.join(tmpdir(), 'tsvisor-gofer-copy-')); });
afterAll(() => { if (base) fs.rmSync(base, { recursive: true, force: true }); });

/** A fresh directory, holding `f` (3*4096+100 bytes, byte i = i % 251) when withFile. */
function freshDir(name: string, withFile: boolean): string {
  const d = path.join(base, `${name}-${n++}`);
  fs.mkdirSync(d);
  if (withFile) {
    const b = Buffer.alloc(3 * 4096 + 100);
    for (let i = 0; i < b.length; i++) b[i] = i % 251;
    fs.writeFileSync(path.join(d, 'f'), b);
  }
  return d;
}

describe.each(platforms)('%s', (platform) => {
  it('copies from the root to a --volume and between volume files as natively', async () => {
    const src = freshDir('src', true);
    const nativeDir = freshDir('native', false);
    const volDir = freshDir('vol', false);
    const argv = [fixture('gofer_copy_range'), path.join(src, 'f'), nativeDir];
    const native = await runNative(argv, { timeoutMs: 30_000 });
    expect(native.code, describeResult(native)).toBe(0);
    expect(native.stdout).toMatch(/copy_file_range volume to volume: 23000\n/);
    expect(native.stdout).toMatch(/copy_file_range within a file, overlapping: EINVAL\n/);
    const r = await runSandbox(argv, { platform, timeoutMs: 50_000, extraArgs: ['--volume', `${volDir}:${nativeDir}`] });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(0);
    expect(fs.readdirSync(volDir)).toEqual([]); // every file unlinked, on the host
  }, 60_000);

  it('copies from the root into its memory overlay as natively', async () => {
    const src = freshDir('src', true);
    const nativeDir = freshDir('overlay', false);
    const argv = [fixture('gofer_copy_range'), path.join(src, 'f'), nativeDir];
    const native = await runNative(argv, { timeoutMs: 30_000 });
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox(argv, { platform, timeoutMs: 50_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(0);
    expect(fs.readdirSync(nativeDir)).toEqual([]); // the overlay kept the writes
  }, 60_000);
});
