// Process identity and system information.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('pid/tid/uid relations, uname, --cwd, /proc/self/exe, rlimits, affinity', async () => {
    const native = await runNative([fixture('ids')], { cwd: '/tmp' });
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox([fixture('ids')], { platform, extraArgs: ['--cwd', '/tmp'] });
    const lines = r.stdout.split('\n');
    expect(lines.filter((l) => l.startsWith('FAIL')), describeResult(r)).toEqual([]);
    expect(lines).toContain('sysname Linux');
    expect(lines).toContain('machine x86_64');
    expect(lines).toContain('cwd /tmp');
    expect(lines).toContain(`exe ${fixture('ids')}`);
    expect(r.stdout).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
  });
});
