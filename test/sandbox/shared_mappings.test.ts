// Shared memory between processes: MAP_SHARED file mappings that outlive the file's last
// descriptor and name, memfd_create and file seals, sem_open, and Python multiprocessing (Pool, Queue, Lock), which hung
// when a forked child's shared mapping read zeros. Each output must match the native run's.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { asCurrentKernel, hostKernelBefore, type LineEdit } from '../helpers/native_kernel';
import { describeResult, expectSameAsNative, fixture, platforms, runNative, runSandbox, skipBecause, TIME_SCALE } from '../helpers/run';

const python = '/usr/bin/python3';
const noPython = skipBecause(!existsSync(python), `${python} not found`);

/** F_SEAL_EXEC, MFD_NOEXEC_SEAL and MFD_EXEC came with Linux 6.3; before, each is an unknown
 *  bit (EINVAL), so the fixture's fds for them are -1 (EBADF) and its fstat leaves the previous
 *  mode printed. The sandbox answers as 6.3 and later. */
const noExecSeals = skipBecause(hostKernelBefore(6, 3),
  'host kernel predates 6.3: memfd checks its native F_SEAL_EXEC/MFD_NOEXEC_SEAL/MFD_EXEC lines as unknown bits and expects 6.3\'s answers from the sandbox');
const MEMFD_6_3: LineEdit[] = noExecSeals ? [
  { old: /^after seal seal: -1 EINVAL$/m, now: 'after seal seal: -1 EPERM' },
  { old: /^noexec mode \d+$/m, now: 'noexec mode 100666' },
  { old: /^noexec seals: -1 EBADF$/m, now: 'noexec seals: 32' },
  { old: /^noexec chmod \+x: -1 EBADF$/m, now: 'noexec chmod +x: -1 EPERM' },
  { old: /^exec mode \d+$/m, now: 'exec mode 100777' },
  { old: /^exec seals: -1 EBADF$/m, now: 'exec seals: 0' },
] : [];

describe.each(platforms)('%s', (platform) => {
  const same = (argv: string[]): Promise<void> => expectSameAsNative(argv, platform, 30_000);

  it('a shared file mapping after close and unlink, across fork; sem_open', () => same([fixture('shared_file_mapping')]));

  it('memfd_create and seals: modes, names, every seal and its errno', async () => {
    const native = await runNative([fixture('memfd')], { timeoutMs: 30_000 });
    const r = await runSandbox([fixture('memfd')], { platform, timeoutMs: 30_000 });
    expect(r.stdout, describeResult(r)).toBe(asCurrentKernel(native.stdout, MEMFD_6_3));
    expect(r.code, describeResult(r)).toBe(native.code);
  });

  it.skipIf(noPython)('python multiprocessing: Pool, Queue, Lock', () => same([python, '-c', [
    'import multiprocessing as m',
    'def f(q, l):',
    '    with l: q.put(42)',
    'if __name__ == "__main__":',
    '    with m.Pool(2) as p: print(p.map(abs, [-1, -2, -3]))',
    '    q, l = m.Queue(), m.Lock()',
    '    c = m.Process(target=f, args=(q, l)); c.start(); print(q.get()); c.join(); print("exit", c.exitcode)',
  ].join('\n')]), 40_000 * TIME_SCALE); // its native run alone takes ~25 s in the QEMU guest
});
