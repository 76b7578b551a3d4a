// Shared memory between processes: MAP_SHARED file mappings that outlive the file's last
// descriptor and name, memfd_create and file seals, sem_open, and Python multiprocessing (Pool, Queue, Lock), which hung
// when a forked child's shared mapping read zeros. Each output must match the native run's.
import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms, skipBecause } from '../helpers/run';

const python = '/usr/bin/python3';
const noPython = skipBecause(!existsSync(python), `${python} not found`);

describe.each(platforms)('%s', (platform) => {
  const same = (argv: string[]): Promise<void> => expectSameAsNative(argv, platform, 30_000);

  it('a shared file mapping after close and unlink, across fork; sem_open', () => same([fixture('shared_file_mapping')]));

  it('memfd_create and seals: modes, names, every seal and its errno', () => same([fixture('memfd')]));

  it.skipIf(noPython)('python multiprocessing: Pool, Queue, Lock', () => same([python, '-c', [
    'import multiprocessing as m',
    'def f(q, l):',
    '    with l: q.put(42)',
    'if __name__ == "__main__":',
    '    with m.Pool(2) as p: print(p.map(abs, [-1, -2, -3]))',
    '    q, l = m.Queue(), m.Lock()',
    '    c = m.Process(target=f, args=(q, l)); c.start(); print(q.get()); c.join(); print("exit", c.exitcode)',
  ].join('\n')]), 40_000);
});
