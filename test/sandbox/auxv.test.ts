// argv, envp and the auxiliary vector, compared with what Linux gives the same binary.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

// Values that Linux and the sandbox must agree on. AT_RANDOM/AT_PHDR/AT_ENTRY/AT_HWCAP are
// printed as set/nonzero by the fixture, so they compare too.
const env = {
  TSVISOR_SHOW: 'FOO,EMPTY,WITH_EQUALS,SPACES,TSVISOR_TEST_UNSET',
  FOO: 'bar',
  EMPTY: '',
  WITH_EQUALS: 'a=b=c',
  SPACES: 'one two  three',
};
const args = ['first', '', 'with space', '--flag=value', 'ünïcödé'];

describe.each(platforms)('%s', (platform) => {
  it('argv, selected env and auxv match native', async () => {
    const argv = [fixture('auxv'), ...args];
    const native = await runNative(argv, { env });
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox(argv, { env, platform });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toBe(native.stdout);
  });

  it('auxv values are the expected ones', async () => {
    const r = await runSandbox([fixture('auxv')], { env, platform });
    expect(r.code, describeResult(r)).toBe(0);
    const lines = r.stdout.split('\n');
    for (const want of [
      'argc 1',
      `argv[0] ${fixture('auxv')}`,
      'envp-terminated yes',
      'env FOO=bar',
      'env EMPTY=',
      'env WITH_EQUALS=a=b=c',
      'env SPACES=one two  three',
      'env TSVISOR_TEST_UNSET unset',
      'AT_PAGESZ 4096',
      'AT_PHENT 56',
      'AT_CLKTCK 100',
      'AT_SECURE 0',
      `AT_EXECFN ${fixture('auxv')}`,
      'AT_RANDOM set',
      'AT_PHDR set',
      'AT_ENTRY set',
      'AT_HWCAP nonzero',
      'AT_RANDOM readable nonzero',
      'AT_ENTRY is _start yes',
    ]) {
      expect(lines, describeResult(r)).toContain(want);
    }
    // The sandbox starts with the host user's ids.
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    expect(lines).toContain(`AT_UID ${uid}`);
    expect(lines).toContain(`AT_EUID ${uid}`);
    expect(lines).toContain(`AT_GID ${gid}`);
    expect(lines).toContain(`AT_EGID ${gid}`);
  });
});
