// tmpfs data written, read and freed a run of pages at a time (ts/fsimpl/tmpfs/page_runs.ts,
// the memory file's pwrite of whole pages): the file's bytes after each step, compared with
// the native run of tmpfs_runs.c on /dev/shm.
import { existsSync, statfsSync } from 'node:fs';
import { describe, it } from 'vitest';
import { expectSameAsCurrentKernel, hostKernelBefore, type LineEdit } from '../helpers/native_kernel';
import { fixture, platforms, skipBecause } from '../helpers/run';

const TMPFS_MAGIC = 0x01021994;
const noShm = skipBecause(!existsSync('/dev/shm') || statfsSync('/dev/shm').type !== TMPFS_MAGIC,
  '/dev/shm is not a tmpfs here: the native run would not show tmpfs semantics');

/** Before 6.14 ('filemap: move prefaulting out of hot write path') generic_perform_write
 *  faulted the source in before write_begin and gave up there; since, the page is allocated
 *  and shmem_write_end runs for the copy that failed, so a write from a missing page keeps its
 *  page (one more: 8 blocks) and one past the end moves the size to where it began. */
const PREFAULT: LineEdit[] = skipBecause(hostKernelBefore(6, 14), 'the host kernel predates 6.14, which no longer faults a ' +
  'write\'s source in before taking the page: the two lines that show it are read as a current kernel\'s')
  ? [
    { old: /^faulting pwritev: 8106 size=78106 blocks=48$/m, now: 'faulting pwritev: 8106 size=78106 blocks=56' },
    { old: /^faulting write past the end: -1 14, -1 14, size=260000 blocks=176$/m, now: 'faulting write past the end: -1 14, -1 14, size=6291456 blocks=200' },
  ] : [];

describe.each(platforms)('%s', (platform) => {
  it.skipIf(noShm)('multi-page writes, holes, truncate, punch and reuse keep the bytes as natively', async () => {
    await expectSameAsCurrentKernel([fixture('tmpfs_runs'), '/dev/shm'], platform, PREFAULT, 60_000);
  }, 120_000);
});
