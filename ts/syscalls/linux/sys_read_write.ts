// read, write, pread64, pwrite64, readv, writev, preadv, pwritev, preadv2, pwritev2, lseek
// (Linux fs/read_write.c). The checks come in Linux's order: a negative offset before the fd,
// then EBADF, ESPIPE for positional I/O on a pipe, EBADF if the file was not opened for the
// direction, then the buffer (EINVAL/EFAULT), and only then the file.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EBADF, EFAULT, EINVAL, EISDIR, ENOTSUP as EOPNOTSUPP, ESPIPE } from '../../abi/linux/errno';
import { S_IFDIR, S_IFMT } from '../../abi/linux/stat';
import { MAX_RW_COUNT, RWF_DSYNC, RWF_HIPRI, RWF_SYNC, SEEK_MAX } from '../../abi/linux/fcntl';
import {
  SYS_lseek, SYS_pread64, SYS_preadv, SYS_preadv2, SYS_pwrite64, SYS_pwritev, SYS_pwritev2,
  SYS_read, SYS_readv, SYS_write, SYS_writev,
} from '../../abi/linux/syscall_numbers';
import type { FileDescription } from '../../vfs/file_description';
import { accountIo } from '../../kernel/io_accounting';
import type { SyscallArgs, SyscallReturn, SyscallTable } from './types';
import { getFile, holding, ioFile } from './fd_util';
import { accessOk, copyInIovecs, readToUser, writeFromUser, type IOVec } from './user_io';

/** RWF_* flags we honour (as hints); RWF_NOWAIT and RWF_APPEND need support the files here
 *  do not have yet, and Linux answers EOPNOTSUPP for a flag a file cannot do. */
const RWF_ACCEPTED = RWF_HIPRI | RWF_DSYNC | RWF_SYNC;

function readable(t: Task, fd: number): FileDescription {
  const f = getFile(t, fd);
  if (!f.readable) fail(EBADF);
  return f;
}

function writable(t: Task, fd: number): FileDescription {
  const f = getFile(t, fd);
  if (!f.writable) fail(EBADF);
  return f;
}

/** The single buffer of read/write as an iovec: access_ok, then the MAX_RW_COUNT clamp. */
function oneBuffer(addr: number, count: number): IOVec[] {
  if (!accessOk(addr, count)) fail(EFAULT);
  return [{ base: addr, len: Math.min(count, MAX_RW_COUNT) }];
}

/** pread/pwrite offset: EINVAL if negative (checked before the fd, as Linux does). */
function position(a: SyscallArgs, i: number): number {
  const pos = a.long(i);
  if (pos < 0) fail(EINVAL);
  return pos;
}

const LLONG_MAX = (1n << 63n) - 1n;

/** rw_verify_area: the range [pos, pos+count) must not pass LLONG_MAX (EINVAL). The offset is
 *  read again exactly: a number loses the low bits near 2^63. */
function verifyArea(a: SyscallArgs, i: number, iovs: IOVec[]): IOVec[] {
  let count = 0n;
  for (const v of iovs) count += BigInt(v.len);
  if (BigInt.asIntN(64, a.u64(i)) + count > LLONG_MAX) fail(EINVAL);
  return iovs;
}

function positional(f: FileDescription): FileDescription {
  if (!f.seekable) fail(ESPIPE);
  return f;
}

/** vfs_read has no shortcut for a zero count: the file's read op answers, and a directory's
 *  is EISDIR. (readv's zero total returns 0 before that.) */
function zeroCountRead(f: FileDescription, count: number): void {
  if (count === 0 && (f.stat().mode & S_IFMT) === S_IFDIR) fail(EISDIR);
}

function sysRead(t: Task, a: SyscallArgs): SyscallReturn {
  const f = readable(t, a.int(0));
  const iovs = oneBuffer(a.ptr(1), a.size(2));
  zeroCountRead(f, a.size(2));
  return holding(f, accountIo(t, false, () => readToUser(t, f, iovs, -1)));
}

function sysWrite(t: Task, a: SyscallArgs): SyscallReturn {
  const f = writable(t, a.int(0));
  if (a.size(2) === 0 && f.writesEmpty === true) return holding(f, accountIo(t, true, () => f.write(t, new Uint8Array(0), -1)));
  return holding(f, accountIo(t, true, () => writeFromUser(t, f, oneBuffer(a.ptr(1), a.size(2)), -1)));
}

function sysPread64(t: Task, a: SyscallArgs): SyscallReturn {
  const pos = position(a, 3);
  const f = positional(ioFile(t, a.int(0)));
  if (!f.readable) fail(EBADF);
  const iovs = verifyArea(a, 3, oneBuffer(a.ptr(1), a.size(2)));
  zeroCountRead(f, a.size(2));
  return holding(f, accountIo(t, false, () => readToUser(t, f, iovs, pos)));
}

function sysPwrite64(t: Task, a: SyscallArgs): SyscallReturn {
  const pos = position(a, 3);
  const f = positional(ioFile(t, a.int(0)));
  if (!f.writable) fail(EBADF);
  return holding(f, accountIo(t, true, () => writeFromUser(t, f, verifyArea(a, 3, oneBuffer(a.ptr(1), a.size(2))), pos)));
}

function sysReadv(t: Task, a: SyscallArgs): SyscallReturn {
  const f = readable(t, a.int(0));
  return holding(f, accountIo(t, false, () => readToUser(t, f, copyInIovecs(t, a.ptr(1), a.size(2)), -1)));
}

function sysWritev(t: Task, a: SyscallArgs): SyscallReturn {
  const f = writable(t, a.int(0));
  return holding(f, accountIo(t, true, () => writeFromUser(t, f, copyInIovecs(t, a.ptr(1), a.size(2)), -1)));
}

// On x86-64 the offset of the p*v calls is the fourth argument alone (pos_h is shifted out).

function sysPreadv(t: Task, a: SyscallArgs): SyscallReturn {
  const pos = position(a, 3);
  const f = positional(ioFile(t, a.int(0)));
  if (!f.readable) fail(EBADF);
  return holding(f, accountIo(t, false, () => readToUser(t, f, verifyArea(a, 3, copyInIovecs(t, a.ptr(1), a.size(2))), pos)));
}

function sysPwritev(t: Task, a: SyscallArgs): SyscallReturn {
  const pos = position(a, 3);
  const f = positional(ioFile(t, a.int(0)));
  if (!f.writable) fail(EBADF);
  return holding(f, accountIo(t, true, () => writeFromUser(t, f, verifyArea(a, 3, copyInIovecs(t, a.ptr(1), a.size(2))), pos)));
}

/** preadv2/pwritev2: offset -1 means the file position; flags are checked once there is
 *  something to transfer, as in Linux. */
function vectored2(t: Task, a: SyscallArgs, write: boolean): SyscallReturn {
  const pos = a.long(3);
  if (pos < -1) fail(EINVAL);
  const f = pos === -1 ? ioFile(t, a.int(0)) : positional(ioFile(t, a.int(0)));
  if (!(write ? f.writable : f.readable)) fail(EBADF);
  const iovs = copyInIovecs(t, a.ptr(1), a.size(2));
  if (iovs.some((v) => v.len > 0) && (a.int(5) & ~RWF_ACCEPTED) !== 0) fail(EOPNOTSUPP);
  return holding(f, accountIo(t, write, () => (write ? writeFromUser(t, f, iovs, pos) : readToUser(t, f, iovs, pos))));
}

function sysLseek(t: Task, a: SyscallArgs): number {
  const f = ioFile(t, a.int(0));
  const whence = a.uint(2);
  if (whence > SEEK_MAX) fail(EINVAL);
  return f.lseek(a.long(1), whence);
}

export function registerReadWrite(table: SyscallTable): void {
  table[SYS_read] = { name: 'read', handler: sysRead, args: ['fd', 'outbuf', 'size'] };
  table[SYS_write] = { name: 'write', handler: sysWrite, args: ['fd', 'buf', 'size'] };
  table[SYS_pread64] = { name: 'pread64', handler: sysPread64, args: ['fd', 'outbuf', 'size', 'long'] };
  table[SYS_pwrite64] = { name: 'pwrite64', handler: sysPwrite64, args: ['fd', 'buf', 'size', 'long'] };
  table[SYS_readv] = { name: 'readv', handler: sysReadv, args: ['fd', 'iovec', 'int'] };
  table[SYS_writev] = { name: 'writev', handler: sysWritev, args: ['fd', 'iovec', 'int'] };
  table[SYS_preadv] = { name: 'preadv', handler: sysPreadv, args: ['fd', 'iovec', 'int', 'long', 'long'] };
  table[SYS_pwritev] = { name: 'pwritev', handler: sysPwritev, args: ['fd', 'iovec', 'int', 'long', 'long'] };
  table[SYS_preadv2] = {
    name: 'preadv2', handler: (t, a) => vectored2(t, a, false),
    args: ['fd', 'iovec', 'int', 'long', 'long', 'hex'],
  };
  table[SYS_pwritev2] = {
    name: 'pwritev2', handler: (t, a) => vectored2(t, a, true),
    args: ['fd', 'iovec', 'int', 'long', 'long', 'hex'],
  };
  table[SYS_lseek] = { name: 'lseek', handler: sysLseek, args: ['fd', 'long', 'whence'] };
}
