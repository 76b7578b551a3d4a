// A missing name on the root (the gofer's tree under the memory overlay), asked again and
// again as a search path does: the answer is remembered for the trust window (200 stats and
// opens cost no more gofer writes than one: TSVISOR_P9_STATS=1 counts them), and a file the
// host creates there afterwards is seen once the window is over, by stat and open; a file
// the sandbox creates there is seen at once (it goes to the overlay's upper layer).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { busybox, cli, describeResult, fixture, haveBusybox, platforms, runSandbox, skipBecause, type RunResult } from '../helpers/run';

const made: string[] = [];
afterAll(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

/** A directory the sandbox reaches only by walking through it (never listed: its lookups
 *  go to the gofer one name at a time). */
function freshTree(): { dir: string; missing: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-miss-'));
  made.push(dir);
  mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
  writeFileSync(path.join(dir, 'a', 'b', 'there'), 'x');
  return { dir, missing: path.join(dir, 'a', 'b', 'late') };
}

async function writesOf(platform: string, argv: string[]): Promise<{ r: RunResult; writes: number }> {
  const saved = [process.env.TSVISOR_P9_STATS, process.env.TSVISOR_P9_TTL_MS];
  process.env.TSVISOR_P9_STATS = '1';
  process.env.TSVISOR_P9_TTL_MS = '10000'; // a crowded host must not count revalidations
  try {
    const r = await runSandbox(argv, { platform, timeoutMs: 60_000, extraArgs: ['--cwd', '/'] });
    const m = /tsvisor-p9: (\d+) writes/.exec(r.stderr);
    return { r, writes: m ? Number(m[1]) : NaN };
  } finally {
    const restore = (k: string, v: string | undefined) => { if (v === undefined) delete process.env[k]; else process.env[k] = v; };
    restore('TSVISOR_P9_STATS', saved[0]);
    restore('TSVISOR_P9_TTL_MS', saved[1]);
  }
}

/** The fixture in wait mode; the host makes the file once it says "ready". */
function runUntilSeen(argv: string[], onReady: () => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '', told = false;
    c.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!told && stdout.includes('ready')) { told = true; onReady(); }
    });
    c.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => c.kill('SIGKILL'), 60_000);
    c.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

describe.each(platforms)('%s', (platform) => {
  it('a miss asked 200 times costs the gofer no more writes than once', async () => {
    const { missing } = freshTree();
    const once = await writesOf(platform, [fixture('lower_miss'), missing, '1']);
    expect(once.r.stdout, describeResult(once.r)).toBe('missing 1 times\n');
    const many = await writesOf(platform, [fixture('lower_miss'), missing, '200']);
    expect(many.r.stdout, describeResult(many.r)).toBe('missing 200 times\n');
    // Without the misses kept, each stat and open is a write (400 here).
    expect(many.writes - once.writes, `${once.writes} writes for 1, ${many.writes} for 200`).toBeLessThan(10);
  }, 120_000);

  it('a file the host creates where a miss was remembered is seen, natively and inside', async () => {
    for (const where of ['native', 'sandbox']) {
      const { missing } = freshTree();
      const argv = [fixture('lower_miss'), missing, '50', 'wait'];
      const r = await runUntilSeen(where === 'native' ? argv : [process.execPath, cli, 'run', `--platform=${platform}`, '--cwd', '/', '--', ...argv],
        // Whole at once (renamed into place): a file seen between its creation and its write
        // read as empty, natively too (seen once in the QEMU guest).
        () => { writeFileSync(`${missing}.tmp`, 'made by the host'); renameSync(`${missing}.tmp`, missing); });
      expect(r.stdout, `${where}: ${r.stderr}`).toBe('missing 50 times\nready\nseen: size 16, read 16\n');
      expect(r.code).toBe(0);
    }
  }, 120_000);

  it.skipIf(skipBecause(!haveBusybox, `${busybox} is not installed`))('a file the sandbox creates where a miss was remembered is there at once', async () => {
    const { missing } = freshTree();
    const script = `for i in 1 2 3; do cat ${missing} 2>/dev/null; done; echo made > ${missing}; cat ${missing}; rm ${missing}; cat ${missing} || echo gone`;
    const r = await runSandbox([busybox, 'sh', '-c', script], { platform, timeoutMs: 60_000, extraArgs: ['--cwd', '/'] });
    expect(r.stdout, describeResult(r)).toBe('made\ngone\n');
  }, 120_000);
});
