// fsync, fdatasync, syncfs, sync, sync_file_range, fallocate, fadvise64, flock (Linux
// fs/sync.c, fs/open.c, mm/fadvise.c, fs/locks.c). Nothing in the sandbox is buffered on its
// way to storage (tmpfs is the storage; the lower layer is never written), so the sync calls
// only validate. flock locks are vfs/locks/flock.ts's.

import { isAppendOnly, isImmutable } from '../../vfs/inode_flags';
import { fsizeNewSizeOk } from '../../kernel/fsize_limit';
import type { Task } from '../../kernel/task';
import { flockFile } from '../../vfs/locks/flock';
import { fail } from '../../kernel/syscall_error';
import { EBADF, EFBIG, EINVAL, EISDIR, ENODEV, EPERM, ENOTSUP as EOPNOTSUPP, ESPIPE } from '../../abi/linux/errno';
import { O_PATH } from '../../abi/linux/fcntl';
import {
  FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_INSERT_RANGE, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_UNSHARE_RANGE,
  FALLOC_FL_WRITE_ZEROES, FALLOC_FL_ZERO_RANGE,
} from '../../abi/linux/fs';
import { S_IFBLK, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG } from '../../abi/linux/stat';
import { hasFsync } from '../../vfs/fsync';
import {
  SYS_fadvise64, SYS_fallocate, SYS_readahead, SYS_fdatasync, SYS_flock, SYS_fsync, SYS_sync, SYS_sync_file_range, SYS_syncfs,
} from '../../abi/linux/syscall_numbers';
import { VfsFile } from '../../vfs/vfs_file';
import type { SyscallArgs, SyscallTable } from './types';
import { getFile, ioFile } from './fd_util';
import { fsnotifyModify } from '../../vfs/fsnotify';

const LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8, LOCK_MAND = 32;
const POSIX_FADV_NOREUSE = 5;

function sysFsync(t: Task, a: SyscallArgs): number {
  const f = getFile(t, a.int(0));
  if (f.flags & O_PATH) fail(EBADF);
  if (!hasFsync(f)) fail(EINVAL);
  if (f instanceof VfsFile) f.fsync();
  return 0;
}

function sysSyncFileRange(t: Task, a: SyscallArgs): number {
  // ksys_sync_file_range: the descriptor first, then the range and flags, then the type.
  const f = getFile(t, a.int(0));
  if (f.flags & O_PATH) fail(EBADF);
  const off = a.i64(1), n = a.i64(2), flags = a.uint(3);
  if ((flags & ~7) !== 0) fail(EINVAL);
  // offset + nbytes as the kernel's signed 64-bit sum: a wrap or a negative end is EINVAL.
  const end = BigInt.asIntN(64, off + n);
  if (off < 0n || end < 0n || end < off) fail(EINVAL);
  const type = f.stat().mode & S_IFMT;
  if (type !== S_IFREG && type !== S_IFDIR && type !== S_IFLNK && type !== S_IFBLK) fail(ESPIPE);
  return 0;
}

const FALLOC_FL_MODE_MASK = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_ZERO_RANGE |
  FALLOC_FL_INSERT_RANGE | FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_WRITE_ZEROES;
/** MAX_LFS_FILESIZE: what offset + len may reach. */
const MAX_LFS_FILESIZE = 2n ** 63n - 1n;

/** vfs_fallocate's checks of the mode alone: one operation, PUNCH_HOLE with KEEP_SIZE, the
 *  range-moving ones without it. */
function checkFallocMode(mode: number): void {
  if ((mode & ~(FALLOC_FL_MODE_MASK | FALLOC_FL_KEEP_SIZE)) !== 0) fail(EOPNOTSUPP);
  const keep = (mode & FALLOC_FL_KEEP_SIZE) !== 0;
  switch (mode & FALLOC_FL_MODE_MASK) {
    case 0: case FALLOC_FL_UNSHARE_RANGE: case FALLOC_FL_ZERO_RANGE: return;
    case FALLOC_FL_PUNCH_HOLE: if (!keep) fail(EOPNOTSUPP); return;
    case FALLOC_FL_COLLAPSE_RANGE: case FALLOC_FL_INSERT_RANGE: case FALLOC_FL_WRITE_ZEROES:
      if (keep) fail(EOPNOTSUPP);
      return;
    default: fail(EOPNOTSUPP);
  }
}

function sysFallocate(t: Task, a: SyscallArgs): number {
  const f = getFile(t, a.int(0));
  const mode = a.int(1), off = a.i64(2), len = a.i64(3);
  if (off < 0n || len <= 0n) fail(EINVAL);
  checkFallocMode(mode);
  if (!f.writable) fail(EBADF);
  // Only plain allocation on an append-only file, nothing on an immutable one.
  if (f instanceof VfsFile && ((isAppendOnly(f.inode) && (mode & ~FALLOC_FL_KEEP_SIZE) !== 0) || isImmutable(f.inode))) fail(EPERM);
  // A pipe is ESPIPE, anything else that is not a regular file (a socket, a device) ENODEV.
  const type = (f instanceof VfsFile ? f.inode.mode : f.stat().mode) & S_IFMT;
  if (type === S_IFIFO) fail(ESPIPE);
  if (type === S_IFDIR) fail(EISDIR);
  if (type !== S_IFREG || !(f instanceof VfsFile)) fail(ENODEV);
  if (off + len > MAX_LFS_FILESIZE) fail(EFBIG);
  if (off + len > BigInt(Number.MAX_SAFE_INTEGER)) fail(EFBIG); // beyond what the sentry's numbers hold
  // inode_newsize_ok runs for every allocation, KEEP_SIZE too, but not for a punch.
  if ((mode & FALLOC_FL_PUNCH_HOLE) === 0) fsizeNewSizeOk(t, f.size(), Number(off + len));
  f.fallocate(mode, Number(off), Number(len));
  // Linux vfs_fallocate reports a successful call as a modification.
  fsnotifyModify(f, Number(len));
  return 0;
}

function sysFadvise64(t: Task, a: SyscallArgs): number {
  const f = getFile(t, a.int(0));
  if (f.flags & O_PATH) fail(EBADF);
  // generic_fadvise: only a FIFO is ESPIPE; sockets and anonymous inodes take the advice.
  if ((f.stat().mode & S_IFMT) === S_IFIFO) fail(ESPIPE);
  if (a.int(3) < 0 || a.int(3) > POSIX_FADV_NOREUSE || a.long(2) < 0) fail(EINVAL);
  return 0;
}

function sysFlock(t: Task, a: SyscallArgs): number | Promise<number> {
  // LOCK_MAND is ignored with success before anything else is looked at (Linux 5.18+), then
  // the operation is checked, then the descriptor.
  if (a.int(1) & LOCK_MAND) return 0;
  const op = a.int(1) & ~LOCK_NB;
  if (op !== LOCK_SH && op !== LOCK_EX && op !== LOCK_UN) fail(EINVAL);
  const f = getFile(t, a.int(0));
  if (f.flags & O_PATH) fail(EBADF);
  return flockFile(t, f, op, (a.int(1) & LOCK_NB) !== 0);
}

/** readahead: a hint about a regular file open for reading (ksys_readahead's checks). */
function sysReadahead(t: Task, a: SyscallArgs): number {
  const f = getFile(t, a.int(0));
  if (!f.readable) fail(EBADF);
  if (!(f instanceof VfsFile) || !f.inode.isRegular) fail(EINVAL);
  return 0;
}

export function registerSync(table: SyscallTable): void {
  table[SYS_readahead] = { name: 'readahead', handler: sysReadahead, args: ['fd', 'long', 'size'] };
  table[SYS_fsync] = { name: 'fsync', handler: sysFsync, args: ['fd'] };
  table[SYS_fdatasync] = { name: 'fdatasync', handler: sysFsync, args: ['fd'] };
  // fdget: an O_PATH descriptor is EBADF.
  table[SYS_syncfs] = { name: 'syncfs', handler: (t, a) => { ioFile(t, a.int(0)); return 0; }, args: ['fd'] };
  table[SYS_sync] = { name: 'sync', handler: () => 0, args: [] };
  table[SYS_sync_file_range] = { name: 'sync_file_range', handler: sysSyncFileRange, args: ['fd', 'long', 'long', 'hex'] };
  table[SYS_fallocate] = { name: 'fallocate', handler: sysFallocate, args: ['fd', 'hex', 'long', 'long'] };
  table[SYS_fadvise64] = { name: 'fadvise64', handler: sysFadvise64, args: ['fd', 'long', 'long', 'int'] };
  table[SYS_flock] = { name: 'flock', handler: sysFlock, args: ['fd', 'hex'] };
}
