// Unknown syscalls return ENOSYS; the sandbox stays up and logs each number once.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runSandbox } from '../helpers/run';

const expected = [
  'syscall(1000) = -1 ENOSYS',
  'again = -1 ENOSYS',
  'syscall(0x7fffffff) = -1 ENOSYS',
  'still running',
  '',
].join('\n');

describe.each(platforms)('%s', (platform) => {
  it('syscall(1000) is ENOSYS and the program continues', async () => {
    const r = await runSandbox([fixture('enosys')], { platform });
    expect(r.stdout, describeResult(r)).toBe(expected);
    expect(r.code, describeResult(r)).toBe(0);
  });

  it('--debug-log records the unknown syscall once', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-test-'));
    try {
      const log = path.join(dir, 'debug.log');
      const r = await runSandbox([fixture('enosys')], { platform, extraArgs: ['--debug-log', log] });
      expect(r.stdout, describeResult(r)).toBe(expected);
      expect(r.code).toBe(0);
      const text = readFileSync(log, 'utf8');
      // "logged once per number": one line names syscall 1000 as unsupported, although the
      // program calls it twice.
      const mentions = text.split('\n').filter((l) => /\b1000\b/.test(l) && /unsupported|unknown|not implemented/i.test(l));
      expect(mentions.length, text).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
