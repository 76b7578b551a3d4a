import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runSandbox } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('hello: printf and exit 0', async () => {
    const r = await runSandbox([fixture('hello')], { platform });
    expect(r.stdout, describeResult(r)).toBe('hello, world\n');
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.signal).toBeNull();
  });

  it('two sandboxes run side by side', async () => {
    const [a, b] = await Promise.all([
      runSandbox([fixture('hello')], { platform }),
      runSandbox([fixture('hello')], { platform }),
    ]);
    expect(a.stdout).toBe('hello, world\n');
    expect(b.stdout).toBe('hello, world\n');
  });
});
