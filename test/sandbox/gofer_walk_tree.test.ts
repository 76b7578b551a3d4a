// find over a host tree on the root (the gofer's tree under the memory overlay): the same
// names, types, sizes and link targets as natively, and far fewer round trips to the gofer
// than directories (a directory's sibling directories are listed in the same write as it,
// TSVISOR_P9_STATS=1 counts the writes). The count is the tree's cost: the writes of the same
// find over an empty directory (start-up, libraries) are taken off.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeResult, platforms, runNative, runSandbox, type RunResult } from '../helpers/run';

const made: string[] = [];
afterAll(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

const TOP = 6, SUBS = 7;

function makeTree(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-walk-'));
  made.push(dir);
  for (let t = 0; t < TOP; t++) {
    for (let s = 0; s < SUBS; s++) {
      const d = path.join(dir, `t${t}`, `s${s}`);
      mkdirSync(d, { recursive: true });
      for (let f = 0; f <= (t + s) % 3; f++) writeFileSync(path.join(d, `f${f}`), 'x'.repeat(t * 10 + s));
    }
    symlinkSync(`s${t % SUBS}/f0`, path.join(dir, `t${t}`, 'link'));
  }
  return dir;
}

const FIND = ['/usr/bin/find'];
const ARGS = ['-printf', '%P %y %s %l\n'];
const sorted = (r: RunResult) => r.stdout.split('\n').filter((l) => l !== '').sort().join('\n');

async function countedFind(platform: string, dir: string): Promise<{ r: RunResult; writes: number }> {
  return counted(platform, [...FIND, dir, ...ARGS]);
}

async function counted(platform: string, argv: string[]): Promise<{ r: RunResult; writes: number }> {
  const saved = [process.env.TSVISOR_P9_STATS, process.env.TSVISOR_P9_TTL_MS];
  process.env.TSVISOR_P9_STATS = '1';
  // The trust window made long: on a crowded host (the whole suite at once) a 100 ms window
  // runs out between two syscalls and costs writes this test would count.
  process.env.TSVISOR_P9_TTL_MS = '10000';
  try {
    const r = await runSandbox(argv, { platform, timeoutMs: 60_000 });
    const m = /tsvisor-p9: (\d+) writes/.exec(r.stderr);
    return { r, writes: m ? Number(m[1]) : NaN };
  } finally {
    const restore = (k: string, v: string | undefined) => { if (v === undefined) delete process.env[k]; else process.env[k] = v; };
    restore('TSVISOR_P9_STATS', saved[0]);
    restore('TSVISOR_P9_TTL_MS', saved[1]);
  }
}

describe.each(platforms)('%s', (platform) => {
  it('find over a host tree: as natively, in fewer round trips than directories', async () => {
    const dir = makeTree();
    const empty = mkdtempSync(path.join(tmpdir(), 'tsvisor-walk-empty-'));
    made.push(empty);
    const native = await runNative([...FIND, dir, ...ARGS], { timeoutMs: 60_000 });
    expect(native.code).toBe(0);
    const tree = await countedFind(platform, dir);
    expect(tree.r.code, describeResult(tree.r)).toBe(0);
    expect(sorted(tree.r)).toBe(sorted(native));
    const base = await countedFind(platform, empty);
    expect(base.r.code, describeResult(base.r)).toBe(0);
    const dirs = 1 + TOP + TOP * SUBS;
    // One write per directory listed without siblings ahead (48 here); with them about one
    // per directory holding directories (7), a window gone stale on a crowded host costing
    // a few more.
    expect(tree.writes - base.writes).toBeLessThan(dirs / 2);
  }, 150_000);

  it('tar of a host tree: the same archive as natively, in fewer round trips than files', async () => {
    // Directories of many files (tar opens each in turn).
    const dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-tar-'));
    made.push(dir);
    const DIRS = 4, FILES = 12;
    for (let d = 0; d < DIRS; d++) {
      mkdirSync(path.join(dir, `d${d}`));
      for (let f = 0; f < FILES; f++) writeFileSync(path.join(dir, `d${d}`, `f${f}`), `${d}:${f}\n`.repeat(f * 50));
    }
    const empty = mkdtempSync(path.join(tmpdir(), 'tsvisor-walk-empty-'));
    made.push(empty);
    // The archive itself (names, sizes, modes, times, contents), as its checksum.
    const tar = (d: string) => ['/bin/sh', '-c', `tar cf - -C ${d} . | md5sum`];
    const native = await runNative(tar(dir), { timeoutMs: 60_000 });
    expect(native.code).toBe(0);
    const tree = await counted(platform, tar(dir));
    expect(tree.r.code, describeResult(tree.r)).toBe(0);
    expect(tree.r.stdout).toBe(native.stdout);
    const base = await counted(platform, tar(empty));
    expect(base.r.code, describeResult(base.r)).toBe(0);
    const files = DIRS * FILES;
    // One write per file opened without its siblings ahead (48 files here, and a listing per
    // directory); with them 2 per directory (1 + 8 ahead, then the other 3) and the listings.
    expect(tree.writes - base.writes).toBeLessThan(files / 2);
  }, 150_000);
});
