// A host tree read through the sandbox's root (served by tsvisor-gofer once the root comes
// from it): stat fields, listings, symlinks, reads and mmaps of host files, `..` at the root,
// a new file beside host files; compared with the native run of fixture gofer_tree.c. The sandbox
// runs first and must leave the host tree as it was (its writes stay in the memory overlay).
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync, linkSync, chmodSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

const made: string[] = [];
afterAll(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

function makeTree(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-gofer-'));
  made.push(dir);
  const data = Buffer.alloc(200_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 8)) & 0xff;
  writeFileSync(path.join(dir, 'data'), data);
  linkSync(path.join(dir, 'data'), path.join(dir, 'data2'));
  symlinkSync('data', path.join(dir, 'ln'));
  symlinkSync('/etc', path.join(dir, 'out'));
  mkdirSync(path.join(dir, 'sub'));
  writeFileSync(path.join(dir, 'sub', 'x'), 'x');
  writeFileSync(path.join(dir, 'private'), 'secret');
  chmodSync(path.join(dir, 'private'), 0o600);
  execFileSync('mkfifo', [path.join(dir, 'fifo')]);
  for (const n of ['data', 'sub/x', 'private', 'fifo', 'sub', '.']) utimesSync(path.join(dir, n), 1_700_000_000, 1_700_000_000);
  return dir;
}

describe.each(platforms)('%s', (platform) => {
  it('reads a host tree as natively, and leaves it untouched', async () => {
    const dir = makeTree();
    const r = await runSandbox([fixture('gofer_tree'), dir], { platform, timeoutMs: 60_000 });
    expect(readdirSync(dir).sort()).toEqual(['data', 'data2', 'fifo', 'ln', 'out', 'private', 'sub']);
    expect(readdirSync(path.join(dir, 'sub'))).toEqual(['x']);
    const native = await runNative([fixture('gofer_tree'), dir], { timeoutMs: 60_000 });
    expect(native.code).toBe(0);
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(native.code);
  }, 150_000);
});
