// The host stdio socket's attack test (net/host/host_stdio_socket.ts): hostile_stdio_socket.c
// gets its stdout as the socketpair Node's spawn gives and fuzzes every socket call on it
// from fixed seeds. Checked from the host: the far end receives exactly what the program's
// write() calls sent (no sendmsg, sendto or SCM_RIGHTS gets through), the sentry holds as
// many host descriptors (other than its own /proc readers) after the storm as before it, the sentry says no internal error,
// and the program ends normally.
import { spawn } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixture, platforms, repoRoot, sandboxArgs, TIME_SCALE } from '../helpers/run';

interface Storm { stdout: string; stderr: string; code: number | null; fdsAtStart: number; fdsAtEnd: number }

/** Run the fuzzer, counting the sentry's host descriptors when it says "start" and "end"
 *  (it waits for a byte on stdin after each). */
function storm(seed: number, platform: string): Promise<Storm> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, sandboxArgs([fixture('hostile_stdio_socket'), String(seed)], { platform }),
      { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '', fdsAtStart = -1, fdsAtEnd = -1;
    // The sentry opens host /proc files of its own lazily (a thread's schedstat): not counted.
    const count = (): number => readdirSync(`/proc/${child.pid}/fd`).filter((f) => {
      try { return !readlinkSync(`/proc/${child.pid}/fd/${f}`).startsWith('/proc/'); } catch { return false; }
    }).length;
    child.stdout.on('data', (b: Buffer) => {
      const before = stdout;
      stdout += b.toString('utf8');
      if (!before.includes('start\n') && stdout.includes('start\n')) { fdsAtStart = count(); child.stdin.write('g'); }
      if (!before.includes('end\n') && stdout.includes('end\n')) { fdsAtEnd = count(); child.stdin.end('g'); }
    });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString('utf8'); });
    child.stdin.on('error', () => {});
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000 * TIME_SCALE);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ stdout, stderr, code, fdsAtStart, fdsAtEnd }); });
  });
}

/** What the fuzzer writes with write(2), and nothing else. */
function written(): string {
  let s = 'start\n';
  for (let i = 0; i < 2000; i += 16) s += `w${i}\n`;
  return `${s}end\n`;
}

describe.each(platforms)('%s', (platform) => {
  it('a program fuzzing every socket call on its host stdout socket has no effect on the host', async () => {
    for (const seed of [1, 2, 3]) {
      const r = await storm(seed, platform);
      const what = `seed ${seed}, code ${r.code}\n--- stderr ---\n${r.stderr}`;
      expect(r.stdout, what).toBe(written());
      expect(r.stderr, what).toMatch(/survived: 2000 calls/);
      expect(r.stderr, what).not.toMatch(/internal error/i);
      expect(r.fdsAtStart, what).toBeGreaterThan(0);
      expect(r.fdsAtEnd, what).toBe(r.fdsAtStart);
      expect(r.code, what).toBe(0);
    }
  }, 400_000);
});
