// fcntl (Linux fs/fcntl.c): duplication, fd flags and file status flags, POSIX record locks
// and OFD locks (vfs/locks), file seals, the owner and signal of signal-driven I/O
// (kernel/fasync.ts), pipe sizes (kernel/pipe_size.ts) and leases (vfs/locks/lease.ts).
// F_NOTIFY's directory notifications are kernel/dnotify.ts.

import { isAppendOnly } from '../../vfs/inode_flags';
import { vtgid } from '../../kernel/ns/pid_ns';
import { isOwnerOrCapable } from '../../vfs/permission';
import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { fcntlDirnotify } from '../../kernel/dnotify';
import { EBADF, EINVAL, EPERM } from '../../abi/linux/errno';
import {
  FD_CLOEXEC, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_GETLK, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW,
  F_SETFD, F_SETFL, F_SETLK, F_SETLKW, O_APPEND, O_NOATIME, O_PATH, SETFL_MASK, F_ADD_SEALS, F_GET_SEALS,
  F_SETOWN, F_GETOWN, F_SETOWN_EX, F_GETOWN_EX, F_SETSIG, F_GETSIG, F_SETPIPE_SZ, F_GETPIPE_SZ,
  F_SETLEASE, F_GETLEASE, F_NOTIFY,
} from '../../abi/linux/fcntl';
import { getLease, setLease } from '../../vfs/locks/lease';
import { fGetown, fGetownEx, fGetsig, fSetown, fSetownEx, fSetsig, setAsyncFlag } from '../../kernel/fasync';
import { getPipeSize, pipeOfFile, setPipeSize } from '../../kernel/pipe_size';
import type { TmpfsRegular } from '../../fsimpl/tmpfs/regular';
import { TmpfsRegularFile } from '../../fsimpl/tmpfs/regular_file';
import { SYS_fcntl } from '../../abi/linux/syscall_numbers';
import type { FileDescription } from '../../vfs/file_description';
import { VfsFile } from '../../vfs/vfs_file';
import type { SyscallArgs, SyscallTable } from './types';
import { getFile, nofileLimit } from './fd_util';
import { F_RDLCK, F_UNLCK, F_WRLCK, lockKey, setLock, testLock, type FileLock } from '../../vfs/locks/posix_locks';

/** The commands an O_PATH descriptor allows (check_fcntl_cmd); others are EBADF. */
const PATH_CMDS = new Set([F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL]);

function dupfd(t: Task, f: FileDescription, min: number, cloexec: boolean): number {
  const limit = nofileLimit(t);
  if (min >= limit) fail(EINVAL);
  return t.fdTable.newFD(f, { minFd: min, cloexec, limit });
}

/** Linux setfl: O_NOATIME only for the file's owner (or CAP_FOWNER); the rest of the access mode
 *  and creation flags cannot change. */
function setfl(t: Task, fd: number, f: FileDescription, arg: number): number {
  // An append-only file's O_APPEND stays.
  if (((arg ^ f.flags) & O_APPEND) !== 0 && f instanceof VfsFile && isAppendOnly(f.vd.inode)) fail(EPERM);
  if ((arg & O_NOATIME) !== 0 && (f.flags & O_NOATIME) === 0) {
    if (!isOwnerOrCapable(t.creds, f.stat().uid)) fail(EPERM);
  }
  setAsyncFlag(t, f, fd, (arg & SETFL_MASK) | (f.flags & ~SETFL_MASK));
  return 0;
}

/** struct f_owner_ex: int type, pid_t pid. */
const F_OWNER_EX_SIZE = 8;

function setownEx(t: Task, f: FileDescription, addr: number): number {
  const b = t.mm.copyIn(addr, F_OWNER_EX_SIZE);
  const v = new DataView(b.buffer, b.byteOffset, F_OWNER_EX_SIZE);
  fSetownEx(t, f, v.getInt32(0, true), v.getInt32(4, true));
  return 0;
}

function getownEx(t: Task, f: FileDescription, addr: number): number {
  const b = new Uint8Array(F_OWNER_EX_SIZE);
  const v = new DataView(b.buffer);
  const [type, pid] = fGetownEx(f);
  v.setInt32(0, type, true);
  v.setInt32(4, pid, true);
  t.mm.copyOut(addr, b);
  return 0;
}

/** pipe_fcntl: EBADF on anything but a pipe or FIFO. */
function pipeFcntl(t: Task, f: FileDescription, cmd: number, arg: number): number {
  const p = pipeOfFile(f);
  if (p === null) fail(EBADF);
  return cmd === F_SETPIPE_SZ ? setPipeSize(t, p, arg) : getPipeSize(p);
}

/** struct flock: l_type, l_whence (shorts), l_start, l_len, l_pid. */
const FLOCK_SIZE = 32;
const SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2;

/** F_GETLK/F_SETLK(W) and the OFD variants (fcntl_getlk, fcntl_setlk, flock_to_posix_lock). */
function recordLock(t: Task, f: FileDescription, cmd: number, arg: number): number | Promise<number> {
  const fl = t.mm.copyIn(arg, FLOCK_SIZE);
  const v = new DataView(fl.buffer, fl.byteOffset, FLOCK_SIZE);
  const type = v.getInt16(0, true);
  const whence = v.getInt16(2, true);
  const lStart = Number(v.getBigInt64(8, true));
  const lLen = Number(v.getBigInt64(16, true));
  if (type !== F_RDLCK && type !== F_WRLCK && type !== F_UNLCK) fail(EINVAL);
  const ofd = cmd === F_OFD_GETLK || cmd === F_OFD_SETLK || cmd === F_OFD_SETLKW;
  if (ofd && v.getInt32(24, true) !== 0) fail(EINVAL);
  let base: number;
  if (whence === SEEK_SET) base = 0;
  else if (whence === SEEK_CUR) base = f.seekable ? f.lseek(0, SEEK_CUR) : 0;
  else if (whence === SEEK_END) base = f.stat().size;
  else fail(EINVAL);
  let start = base + lStart;
  let end = lLen === 0 ? Infinity : start + lLen - 1;
  if (lLen < 0) {
    end = start - 1;
    start += lLen;
  }
  if (start < 0) fail(EINVAL);
  const owner: object = ofd ? f : t.fdTable;
  const req: FileLock = { owner, ofd, pid: ofd ? -1 : t.tg.tgid, type, start, end };
  if (cmd === F_GETLK || cmd === F_OFD_GETLK) {
    const held = testLock(lockKey(f), req);
    if (held === null) {
      v.setInt16(0, F_UNLCK, true);
    } else {
      v.setInt16(0, held.type, true);
      v.setInt16(2, SEEK_SET, true);
      v.setBigInt64(8, BigInt(held.start), true);
      v.setBigInt64(16, held.end === Infinity ? 0n : BigInt(held.end - held.start + 1), true);
      // locks_translate_pid: the holder as the caller's pid namespace numbers it (0 outside).
      const holder = held.pid > 0 ? t.kernel.threadGroups.get(held.pid) : undefined;
      v.setInt32(24, holder !== undefined ? vtgid(t, holder) : held.pid, true);
    }
    t.mm.copyOut(arg, fl);
    return 0;
  }
  if ((type === F_RDLCK && !f.readable) || (type === F_WRLCK && !f.writable)) fail(EBADF);
  return setLock(t, f, req, cmd === F_SETLKW || cmd === F_OFD_SETLKW);
}

/** The tmpfs file behind f, the only kind with seals (memfd_file_seals_ptr); else EINVAL. */
function sealable(f: FileDescription): TmpfsRegular {
  if (!(f instanceof TmpfsRegularFile)) fail(EINVAL);
  return f.data;
}

function sysFcntl(t: Task, a: SyscallArgs): number | Promise<number> {
  const fd = a.int(0);
  const cmd = a.int(1);
  const f = getFile(t, fd);
  if ((f.flags & O_PATH) !== 0 && !PATH_CMDS.has(cmd)) fail(EBADF);
  switch (cmd) {
    case F_DUPFD: return dupfd(t, f, a.uint(2), false);
    case F_DUPFD_CLOEXEC: return dupfd(t, f, a.uint(2), true);
    case F_GETFD: return t.fdTable.getFlags(fd)?.cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
      t.fdTable.setFlags(fd, { cloexec: (a.int(2) & FD_CLOEXEC) !== 0 });
      return 0;
    case F_GETFL: return f.flags;
    case F_SETFL: return setfl(t, fd, f, a.uint(2));
    case F_SETOWN: fSetown(t, f, a.int(2)); return 0;
    case F_GETOWN: return fGetown(f);
    case F_SETOWN_EX: return setownEx(t, f, a.ptr(2));
    case F_GETOWN_EX: return getownEx(t, f, a.ptr(2));
    case F_SETSIG: fSetsig(f, a.int(2)); return 0;
    case F_GETSIG: return fGetsig(f);
    case F_SETPIPE_SZ: case F_GETPIPE_SZ: return pipeFcntl(t, f, cmd, a.uint(2));
    case F_SETLEASE: return setLease(t, f, fd, a.int(2));
    case F_GETLEASE: return getLease(f);
    case F_GETLK: case F_SETLK: case F_SETLKW: case F_OFD_GETLK: case F_OFD_SETLK: case F_OFD_SETLKW:
      return recordLock(t, f, cmd, a.ptr(2));
    case F_ADD_SEALS: {
      const data = sealable(f);
      if (!f.writable) fail(EPERM);
      data.addSeals(a.uint(2));
      return 0;
    }
    case F_GET_SEALS: return sealable(f).seals;
    case F_NOTIFY: return fcntlDirnotify(t, fd, f, a.uint(2));
    default: fail(EINVAL);
  }
}

export function registerFcntl(table: SyscallTable): void {
  table[SYS_fcntl] = { name: 'fcntl', handler: sysFcntl, args: ['fd', 'fcntlcmd', 'hex'] };
}
