// --strace prints one line per syscall (name, decoded arguments, result), like runsc's strace:
//   [   1] write(1 host:[1], "hello\n", 6) = 6   (format of ts/strace/strace.ts)
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runSandbox } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('--strace shows the write and its result', async () => {
    const r = await runSandbox([fixture('write6')], { platform, extraArgs: ['--strace'] });
    expect(r.code, describeResult(r)).toBe(0);
    // The program's own output is untouched.
    expect(r.stdout.includes('hello\n'), describeResult(r)).toBe(true);
    const lines = (r.stderr + '\n' + r.stdout).split('\n');
    const writes = lines.filter((l) => /\bwrite\(/.test(l) && /= 6\b/.test(l));
    expect(writes.length, describeResult(r)).toBeGreaterThanOrEqual(1);
    // The decoded buffer argument is shown (as a quoted string).
    expect(writes.some((l) => l.includes('"hello\\n"')), writes.join('\n')).toBe(true);
  });

  it('an unknown syscall shows ENOSYS under --strace', async () => {
    const r = await runSandbox([fixture('enosys')], { platform, extraArgs: ['--strace'] });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stderr, describeResult(r)).toMatch(/ENOSYS/);
  });

  it('without --strace nothing is traced', async () => {
    const r = await runSandbox([fixture('write6')], { platform });
    expect(r.stdout).toBe('hello\n');
    expect(r.stderr, describeResult(r)).not.toMatch(/\bwrite\(/);
  });
});
