// sendfile, copy_file_range (Linux fs/read_write.c): copies between two open files through a
// sentry buffer, chunk by chunk, using each file's own read and write (so any pair works
// that Linux allows); between two gofer files with donated fds, one host copy_file_range. Synchronous while both sides are; if one must wait, the rest of the
// copy continues asynchronously. A partial copy reports what was done, as Linux does.

import type { Task } from '../../kernel/task';
import { accountCopy } from '../../kernel/io_accounting';
import { fail } from '../../kernel/syscall_error';
import { EBADF, EFAULT, EINVAL, EISDIR, ESPIPE, EXDEV } from '../../abi/linux/errno';
import { MAX_RW_COUNT, O_APPEND, SEEK_CUR, SEEK_SET } from '../../abi/linux/fcntl';
import { VfsFile } from '../../vfs/vfs_file';
import { fsizeLimit, fsizeWriteCount } from '../../kernel/fsize_limit';
import { SYS_copy_file_range, SYS_sendfile } from '../../abi/linux/syscall_numbers';
import { S_IFDIR, S_IFMT } from '../../abi/linux/stat';
import type { FileDescription } from '../../vfs/file_description';
import type { SyscallArgs, SyscallReturn, SyscallTable } from './types';
import { getFile, ioFile } from './fd_util';
import { pipeOf } from './sys_splice';
import { fsnotifyAccess, fsnotifyModify } from '../../vfs/fsnotify';

const CHUNK = 64 * 1024;

interface Copy {
  t: Task;
  from: FileDescription;
  to: FileDescription;
  /** -1: use the file position. */
  inOff: number;
  outOff: number;
  left: number;
  done: number;
  /** Called with the total at the end (to write offsets back). */
  finish: (done: number) => void;
}

function at(off: number, done: number): number { return off < 0 ? -1 : off + done; }

function fin(c: Copy, e: unknown): number {
  c.finish(c.done);
  accountCopy(c.t, c.done);
  if (e !== null && c.done === 0) throw e;
  return c.done;
}

/** Account for w bytes written of n read; false when the copy must stop. */
function wrote(c: Copy, n: number, w: number): boolean {
  c.done += w;
  c.left -= w;
  return w === n;
}

/** Both files' bytes on the host (gofer files with donated fds): the host copies them, in
 *  one copy_file_range; undefined if it will not (the buffered loop then does). */
function hostCopy(c: Copy): number | undefined {
  const fd = c.from.hostDataFd?.();
  if (fd === undefined || c.to.copyFromHostFd === undefined) return undefined;
  try {
    const inAt = c.inOff >= 0 ? c.inOff : c.from.lseek(0, SEEK_CUR);
    const n = c.to.copyFromHostFd(c.t, fd, inAt, c.outOff, c.left);
    if (n === undefined) return undefined;
    wrote(c, n, n);
    if (c.inOff < 0) c.from.lseek(inAt + n, SEEK_SET);
  } catch (e) {
    return fin(c, e);
  }
  return fin(c, null);
}

function run(c: Copy): SyscallReturn {
  const direct = hostCopy(c);
  if (direct !== undefined) return direct;
  const buf = new Uint8Array(Math.min(CHUNK, c.left));
  try {
    while (c.left > 0) {
      const r = c.from.read(c.t, buf.subarray(0, Math.min(c.left, buf.length)), at(c.inOff, c.done));
      if (typeof r !== 'number') return runAsync(c, buf, r);
      if (r === 0) break;
      const w = c.to.write(c.t, buf.subarray(0, r), at(c.outOff, c.done));
      if (typeof w !== 'number') return runAsync(c, buf, null, w, r);
      if (!wrote(c, r, w)) break;
    }
  } catch (e) {
    return fin(c, e);
  }
  return fin(c, null);
}

/** The rest of a copy once one side had to wait. */
async function runAsync(c: Copy, buf: Uint8Array, read: Promise<number> | null, write?: Promise<number>,
  n = 0): Promise<number> {
  try {
    if (read) {
      n = await read;
      if (n === 0) return fin(c, null);
      write = Promise.resolve(c.to.write(c.t, buf.subarray(0, n), at(c.outOff, c.done)));
    }
    if (write && !wrote(c, n, await write)) return fin(c, null);
    while (c.left > 0) {
      const r = await c.from.read(c.t, buf.subarray(0, Math.min(c.left, buf.length)), at(c.inOff, c.done));
      if (r === 0) break;
      if (!wrote(c, r, await c.to.write(c.t, buf.subarray(0, r), at(c.outOff, c.done)))) break;
    }
  } catch (e) {
    return fin(c, e);
  }
  return fin(c, null);
}

const LLONG_MAX = (1n << 63n) - 1n;

/** Linux do_sendfile's order: the offset is copied in first, then the input is checked, its
 *  range verified (a negative count or offset, or one that overflows: EINVAL), and only then
 *  the output; a file without splice_read (a directory) is EINVAL. */
function sysSendfile(t: Task, a: SyscallArgs): SyscallReturn {
  const offAddr = a.ptr(2);
  const pos = offAddr !== 0 ? BigInt.asIntN(64, t.mm.readU64(offAddr)) : -1n;
  try {
    return sendfileAt(t, a, offAddr, pos);
  } catch (e) {
    // sendfile64 writes the offset back whatever do_sendfile said: a failed write is EFAULT.
    if (offAddr !== 0) {
      try { t.mm.writeU64(offAddr, BigInt.asUintN(64, pos)); } catch { fail(EFAULT); }
    }
    throw e;
  }
}

function sendfileAt(t: Task, a: SyscallArgs, offAddr: number, pos: bigint): SyscallReturn {
  const from = getFile(t, a.int(1));
  if (!from.readable) fail(EBADF);
  if (offAddr !== 0 && !from.seekable) fail(ESPIPE);
  const rawCount = BigInt.asIntN(64, a.u64(3));
  if (rawCount < 0n || (offAddr !== 0 && (pos < 0n || pos + rawCount > LLONG_MAX))) fail(EINVAL);
  const count = Math.min(a.size(3), MAX_RW_COUNT);
  const to = getFile(t, a.int(0));
  if (!to.writable) fail(EBADF);
  if (to.flags & O_APPEND) fail(EINVAL);
  // A zero count is done before the input is asked to splice (a directory cannot).
  if (count === 0) return 0;
  // Into a file or socket the input must be seekable (splice_direct_to_actor: Go's io.Copy
  // from a pipe to a socket counts on EINVAL to fall back to read and write); into a pipe it
  // must have splice_read, which directories and pipes lack.
  const isDir = (from.stat().mode & S_IFMT) === S_IFDIR;
  if (isDir || (pipeOf(to) === null ? !from.seekable : pipeOf(from) !== null)) fail(EINVAL);
  // Without an offset, do_sendfile reads at the file position and moves it by what was sent
  // (not by what was read: a socket that took part of a chunk gets the rest next time).
  const usePos = offAddr === 0 && from.seekable;
  const inOff = usePos ? from.lseek(0, SEEK_CUR) : Number(pos);
  // The write side is a write: RLIMIT_FSIZE cuts it short or refuses it (generic_write_checks).
  let left = count;
  if (to instanceof VfsFile && fsizeLimit(t) !== Infinity && to.inode.isRegular) {
    left = fsizeWriteCount(t, to.lseek(0, SEEK_CUR), count);
  }
  return fsnotifyModify(to, fsnotifyAccess(from, run({ t, from, to, inOff, outOff: -1, left, done: 0,
    finish: (done) => {
      if (offAddr !== 0) t.mm.writeU64(offAddr, BigInt(inOff + done));
      else if (usePos) from.lseek(inOff + done, SEEK_SET);
    } })));
}

function sysCopyFileRange(t: Task, a: SyscallArgs): SyscallReturn {
  // Linux's order: both descriptors, both offsets copied in, the flags, then the file types
  // (generic_file_rw_checks: EISDIR, EINVAL), the access modes, negative offsets.
  const from = ioFile(t, a.int(0));
  const to = ioFile(t, a.int(2));
  const inAddr = a.ptr(1);
  const outAddr = a.ptr(3);
  const inOff = inAddr !== 0 ? Number(BigInt.asIntN(64, t.mm.readU64(inAddr))) : -1;
  const outOff = outAddr !== 0 ? Number(BigInt.asIntN(64, t.mm.readU64(outAddr))) : -1;
  if (a.uint(5) !== 0) fail(EINVAL);
  const len = Math.min(a.size(4), MAX_RW_COUNT);
  const inSt = from.stat(), outSt = to.stat();
  if ((inSt.mode & 0o170000) === 0o040000 || (outSt.mode & 0o170000) === 0o040000) fail(EISDIR);
  if ((inSt.mode & 0o170000) !== 0o100000 || (outSt.mode & 0o170000) !== 0o100000) fail(EINVAL);
  if (!from.readable || !to.writable || (to.flags & O_APPEND)) fail(EBADF);
  // Two file systems: no copy (generic_copy_file_checks, Linux 5.19+), before the count is cut;
  // but the host's own (root, volumes) may well be one file system natively.
  if (from instanceof VfsFile && to instanceof VfsFile) {
    const a1 = from.vd.inode.fs, b1 = to.vd.inode.fs;
    if (a1 !== b1 && !(a1.hostBacked && b1.hostBacked)) fail(EXDEV);
  }
  if ((inAddr !== 0 && inOff < 0) || (outAddr !== 0 && outOff < 0)) fail(EINVAL);
  // generic_copy_file_checks: the count cut at the input's end, then RLIMIT_FSIZE at the
  // output (SIGXFSZ and EFBIG at or past it, even for nothing to copy; cut short before it),
  // then within one file the two ranges may not overlap.
  let left = len;
  if (from instanceof VfsFile && to instanceof VfsFile) {
    const inPos = inOff >= 0 ? inOff : from.lseek(0, SEEK_CUR);
    const outPos = outOff >= 0 ? outOff : to.lseek(0, SEEK_CUR);
    left = Math.max(0, Math.min(len, from.size() - inPos));
    if (fsizeLimit(t) !== Infinity) left = fsizeWriteCount(t, outPos, left);
    if (from.vd.inode === to.vd.inode && outPos + left > inPos && outPos < inPos + left) fail(EINVAL);
  }
  if (left === 0) return 0;
  return fsnotifyModify(to, fsnotifyAccess(from, run({ t, from, to, inOff, outOff, left, done: 0, finish: (done) => {
    if (inAddr !== 0) t.mm.writeU64(inAddr, BigInt(inOff + done));
    if (outAddr !== 0) t.mm.writeU64(outAddr, BigInt(outOff + done));
  } })));
}

export function registerSendfile(table: SyscallTable): void {
  table[SYS_sendfile] = { name: 'sendfile', handler: sysSendfile, args: ['fd', 'fd', 'ptr', 'size'] };
  table[SYS_copy_file_range] = {
    name: 'copy_file_range', handler: sysCopyFileRange, args: ['fd', 'ptr', 'fd', 'ptr', 'size', 'hex'],
  };
}
