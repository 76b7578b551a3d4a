// /proc/<pid>/io (kernel/io_accounting.ts): read/write family bytes and calls, a joined
// thread's and a reaped child's counts in the process's, compared with the native run of
// proc_io.c on /dev/shm (the file did not exist before).
import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms, skipBecause } from '../helpers/run';

const noShm = skipBecause(!existsSync('/dev/shm'), '/dev/shm is missing: the fixture writes its file there');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(noShm)('I/O accounting counts as natively', async () => {
    await expectSameAsNative([fixture('proc_io'), '/dev/shm'], platform, 60_000);
  }, 120_000);
});
