// System-wide /proc statistics (fsimpl/proc/system_stats.ts): /proc/stat's CPU times are the
// sandbox's own and grow with its work, /proc/vmstat lets procps' vmstat run, /proc/swaps and
// /proc/partitions carry Linux's headers (empty tables), /proc/diskstats exists and is empty.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeResult, platforms, runSandbox, skipBecause } from '../helpers/run';

const vmstatBin = '/usr/bin/vmstat';
const noVmstat = skipBecause(!existsSync(vmstatBin), `${vmstatBin} not found (apt-get install procps)`);

describe.each(platforms)('%s', (platform) => {
  it('/proc/stat CPU time grows with the sandbox\'s work; swaps, partitions, diskstats', async () => {
    // Two samples of /proc/stat's cpu line around a busy loop in the shell (no syscalls).
    const script = 'head -1 /proc/stat; i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; head -1 /proc/stat; ' +
      'cat /proc/swaps; echo ---; cat /proc/partitions; echo ---; wc -c < /proc/diskstats; grep -c . /proc/vmstat';
    const r = await runSandbox(['/bin/sh', '-c', script], { platform, timeoutMs: 120_000 });
    expect(r.code, describeResult(r)).toBe(0);
    const lines = r.stdout.split('\n');
    const cpu = (l: string): number[] => l.split(/\s+/).slice(1).map(Number);
    const [a, b] = [cpu(lines[0]), cpu(lines[1])];
    expect(lines[0].startsWith('cpu '), describeResult(r)).toBe(true);
    expect(a.length).toBe(10);
    // user + system ticks grew by the loop's CPU time (at least a few ticks).
    expect(b[0] + b[2] - (a[0] + a[2]), describeResult(r)).toBeGreaterThanOrEqual(3);
    expect(b[3]).toBeGreaterThanOrEqual(a[3]);
    const swapsHeader = readFileSync('/proc/swaps', 'utf8').split('\n')[0];
    expect(lines[2]).toBe(swapsHeader);
    expect(lines.slice(3, 7)).toEqual(['---', 'major minor  #blocks  name', '', '---']);
    expect(lines[7]).toBe('0');
    expect(Number(lines[8])).toBeGreaterThan(20);
  }, 180_000);

  it.skipIf(noVmstat)('procps vmstat runs', async () => {
    const r = await runSandbox([vmstatBin, '1', '2'], { platform, timeoutMs: 60_000 });
    expect(r.code, describeResult(r)).toBe(0);
    const rows = r.stdout.trim().split('\n');
    expect(rows.length, describeResult(r)).toBe(4);
    expect(rows[1]).toMatch(/^\s*r\s+b\s+swpd\s+free/);
    // us sy id wa st add up to about 100.
    const last = rows[3].trim().split(/\s+/).map(Number);
    const pct = last.slice(-5).reduce((x, y) => x + y, 0);
    expect(pct).toBeGreaterThanOrEqual(98);
    expect(pct).toBeLessThanOrEqual(102);
  }, 120_000);
});
