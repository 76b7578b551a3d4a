// tmpfs data written, read and freed a run of pages at a time (ts/fsimpl/tmpfs/page_runs.ts,
// the memory file's pwrite of whole pages): the file's bytes after each step, compared with
// the native run of tmpfs_runs.c on /dev/shm.
import { existsSync, statfsSync } from 'node:fs';
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms, skipBecause } from '../helpers/run';

const TMPFS_MAGIC = 0x01021994;
const noShm = skipBecause(!existsSync('/dev/shm') || statfsSync('/dev/shm').type !== TMPFS_MAGIC,
  '/dev/shm is not a tmpfs here: the native run would not show tmpfs semantics');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(noShm)('multi-page writes, holes, truncate, punch and reuse keep the bytes as natively', async () => {
    await expectSameAsNative([fixture('tmpfs_runs'), '/dev/shm'], platform, 60_000);
  }, 120_000);
});
