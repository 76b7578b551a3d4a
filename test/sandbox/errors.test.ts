// User errors are one clear line on stderr and an exit status in 125-127, as container
// runtimes do: 127 program not found, 126 not executable / not an ELF, 125 sandbox failure.
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runSandbox } from '../helpers/run';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-errors-'));
  writeFileSync(path.join(dir, 'text'), 'this is plain text, not a program\n', { mode: 0o755 });
  writeFileSync(path.join(dir, 'noexec'), readFileSync(fixture('hello')), { mode: 0o644 });
  // An ELF header followed by nothing: malformed, must be ENOEXEC (126), not a crash.
  writeFileSync(path.join(dir, 'truncated'), readFileSync(fixture('hello')).subarray(0, 40), { mode: 0o755 });
  copyFileSync(fixture('hello'), path.join(dir, 'hello'));
  chmodSync(path.join(dir, 'hello'), 0o755);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function oneLine(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim().length > 0);
}

describe.each(platforms)('%s', (platform) => {
  it('a missing program exits 127 with one line on stderr', async () => {
    const r = await runSandbox(['/nonexistent/no-such-program'], { platform });
    expect(r.code, describeResult(r)).toBe(127);
    expect(oneLine(r.stderr), describeResult(r)).toHaveLength(1);
    expect(r.stderr).toContain('no-such-program');
    expect(r.stdout).toBe('');
  });

  it('a text file exits 126 with one line on stderr', async () => {
    const r = await runSandbox([path.join(dir, 'text')], { platform });
    expect(r.code, describeResult(r)).toBe(126);
    expect(oneLine(r.stderr), describeResult(r)).toHaveLength(1);
    expect(r.stdout).toBe('');
  });

  it('a file without execute permission exits 126', async () => {
    const r = await runSandbox([path.join(dir, 'noexec')], { platform });
    expect(r.code, describeResult(r)).toBe(126);
    expect(oneLine(r.stderr), describeResult(r)).toHaveLength(1);
  });

  it('a directory exits 126', async () => {
    const r = await runSandbox([dir], { platform });
    expect(r.code, describeResult(r)).toBe(126);
    expect(oneLine(r.stderr), describeResult(r)).toHaveLength(1);
  });

  it('a truncated ELF is ENOEXEC: exit 126, the sandbox does not crash', async () => {
    const r = await runSandbox([path.join(dir, 'truncated')], { platform });
    expect(r.code, describeResult(r)).toBe(126);
    expect(oneLine(r.stderr), describeResult(r)).toHaveLength(1);
  });

  it('a copy of a good program in another directory runs', async () => {
    const r = await runSandbox([path.join(dir, 'hello')], { platform });
    expect(r.stdout, describeResult(r)).toBe('hello, world\n');
    expect(r.code).toBe(0);
  });
});

describe('cli', () => {
  it('an unknown platform is a sandbox failure: exit 125 with one line', async () => {
    const r = await runSandbox([fixture('hello')], { platform: 'no-such-platform' });
    expect(r.code, describeResult(r)).toBe(125);
    expect(oneLine(r.stderr), describeResult(r)).toHaveLength(1);
    expect(r.stdout).toBe('');
  });
});
