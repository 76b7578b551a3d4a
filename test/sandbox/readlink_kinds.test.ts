// readlink(2) of every kind of file on the root (the gofer's tree under the memory overlay)
// and on a --volume: the same answers as natively; and a non-symlink's EINVAL comes from
// the type the walk already knows, not from the gofer (realpath() asks readlink of every
// component: gcc asks it ~500 times). TSVISOR_P9_STATS=1 counts the writes to the gofer:
// 200 readlinks of each name cost no more writes than 1 does.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, type RunResult } from '../helpers/run';

const made: string[] = [];
afterAll(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

function makeTree(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-readlink-'));
  made.push(dir);
  mkdirSync(path.join(dir, 'dir'));
  writeFileSync(path.join(dir, 'file'), 'x\n');
  execFileSync('mkfifo', [path.join(dir, 'fifo')]);
  symlinkSync('file', path.join(dir, 'link'));
  symlinkSync('nowhere', path.join(dir, 'dangling'));
  return dir;
}

async function counted(platform: string, argv: string[], extraArgs: string[]): Promise<{ r: RunResult; writes: number }> {
  const saved = [process.env.TSVISOR_P9_STATS, process.env.TSVISOR_P9_TTL_MS];
  process.env.TSVISOR_P9_STATS = '1';
  // A long trust window: on a crowded host the walks' revalidations would be counted too.
  process.env.TSVISOR_P9_TTL_MS = '10000';
  try {
    const r = await runSandbox(argv, { platform, timeoutMs: 60_000, extraArgs });
    const m = /tsvisor-p9: (\d+) writes/.exec(r.stderr);
    return { r, writes: m ? Number(m[1]) : NaN };
  } finally {
    const restore = (k: string, v: string | undefined) => { if (v === undefined) delete process.env[k]; else process.env[k] = v; };
    restore('TSVISOR_P9_STATS', saved[0]);
    restore('TSVISOR_P9_TTL_MS', saved[1]);
  }
}

const strip = (s: string) => s.replace(/^tsvisor-p9:.*\n/m, '');

describe.each(platforms)('%s', (platform) => {
  it.each(['root', 'volume'])('readlink of each kind of file through the %s: as natively, a non-symlink without a round trip', async (via) => {
    const dir = makeTree();
    const native = await runNative([fixture('readlink_kinds'), dir, '1'], { timeoutMs: 30_000 });
    expect(native.code).toBe(0);
    const inside = via === 'root' ? dir : '/v';
    const extra = via === 'root' ? [] : ['--volume', `${dir}:/v`];
    const once = await counted(platform, [fixture('readlink_kinds'), inside, '1'], extra);
    expect(once.r.code, describeResult(once.r)).toBe(0);
    expect(once.r.stdout).toBe(native.stdout);
    const many = await counted(platform, [fixture('readlink_kinds'), inside, '200'], extra);
    expect(many.r.code, describeResult(many.r)).toBe(0);
    expect(many.r.stdout).toBe(native.stdout);
    expect(strip(many.r.stderr)).toBe('');
    // Each readlink of a directory, file or FIFO was one write each before (1,000 here).
    expect(many.writes - once.writes, `${once.writes} writes for 1 round, ${many.writes} for 200`).toBeLessThan(20);
  }, 150_000);
});
