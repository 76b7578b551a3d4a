// Bad pointers passed to syscalls get EFAULT and the program carries on.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

// efault reads stdin twice into bad buffers: there must be data to read, or read() would
// return 0 at EOF without looking at the buffer.
const stdin = 'abcdefghijklmnopqrstuvwxyz0123456789\n';

const expected = [
  'write(1, 0x1, 10): -1 EFAULT',
  'read(0, NULL, 10): -1 EFAULT',
  'write(1, PROT_NONE page, 10): -1 EFAULT',
  'write(1, unmapped, 10): -1 EFAULT',
  'read(0, PROT_READ page, 10): -1 EFAULT',
  'writev(1, [ok, bad]): -1 EFAULT',
  'writev(1, bad iov array): -1 EFAULT',
  'clock_gettime(bad): -1 EFAULT',
  'alive',
  '',
].join('\n');

describe.each(platforms)('%s', (platform) => {
  it('write/read/writev/clock_gettime with bad pointers return EFAULT', async () => {
    const native = await runNative([fixture('efault')], { stdin });
    expect(native.stdout, describeResult(native)).toBe(expected);
    const r = await runSandbox([fixture('efault')], { stdin, platform });
    expect(r.stdout, describeResult(r)).toBe(expected);
    expect(r.code, describeResult(r)).toBe(0);
  });
});
