// SEEK_DATA/SEEK_HOLE and fallocate's modes: a tmpfs file (holes from ftruncate, PUNCH_HOLE and
// unwritten fallocated pages, the EOPNOTSUPP tmpfs gives for the other modes, the errno rules
// of vfs_fallocate) compared with the native run of seek_hole.c on /dev/shm; and a sparse host
// file, seen in the sandbox through the lower layer's host fd, with the holes the host has.
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { expectSameAsCurrentKernel, hostKernelBefore, type LineEdit } from '../helpers/native_kernel';
import { fixture, platforms, skipBecause } from '../helpers/run';

const TMPFS_MAGIC = 0x01021994;
const noShm = skipBecause(!existsSync('/dev/shm') || statfsSync('/dev/shm').type !== TMPFS_MAGIC,
  '/dev/shm is not a tmpfs here: the native run would not show tmpfs semantics');

/** Linux 6.12 ("fs: sort out the fallocate mode vs flag mess") checks the mode first: COLLAPSE
 *  or INSERT with KEEP_SIZE reaches tmpfs, which has neither (EOPNOTSUPP); before, vfs_fallocate
 *  refused the combination itself (EINVAL). */
const MODES_6_12: LineEdit[] = skipBecause(hostKernelBefore(6, 12),
  'host kernel predates 6.12: fallocate COLLAPSE|KEEP_SIZE and INSERT|KEEP_SIZE are EINVAL there, the sandbox\'s EOPNOTSUPP is checked against those lines instead')
  ? [{ old: /^COLLAPSE\|KEEP_SIZE = -1 EINVAL\n/m, now: 'COLLAPSE|KEEP_SIZE = -1 EOPNOTSUPP\n' },
    { old: /^INSERT\|KEEP_SIZE = -1 EINVAL\n/m, now: 'INSERT|KEEP_SIZE = -1 EOPNOTSUPP\n' }] : [];

let dir = '';
let sparse = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-holes-'));
  sparse = path.join(dir, 'sparse');
  const fd = openSync(sparse, 'w');
  writeSync(fd, 'hello', 0);
  writeSync(fd, 'world', 512 * 1024);
  writeSync(fd, '!', 1024 * 1024 - 1);
  closeSync(fd);
});
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe.each(platforms)('%s', (platform) => {
  it.skipIf(noShm)('tmpfs holes, fallocate modes and a sparse host file behave as natively', async () => {
    await expectSameAsCurrentKernel([fixture('seek_hole'), '/dev/shm', sparse], platform, MODES_6_12, 60_000);
  }, 120_000);
});
