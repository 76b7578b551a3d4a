// Attribute syscalls (Linux fs/open.c, fs/utimes.c): chmod, fchmod, fchmodat, chown, fchown,
// lchown, fchownat, truncate, ftruncate, utime, utimes, futimesat, utimensat. Decoding here;
// who may change what is vfs/attr_ops.ts.

import { isAppendOnly } from '../../vfs/inode_flags';
import { fsizeNewSizeOk } from '../../kernel/fsize_limit';
import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EBADF, EFAULT, EINVAL, EPERM, ENOTSUP as EOPNOTSUPP } from '../../abi/linux/errno';
import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, O_PATH, O_WRONLY } from '../../abi/linux/fcntl';
import { UTIME_NOW, UTIME_OMIT } from '../../abi/linux/fs';
import { S_IFMT, type Timespec } from '../../abi/linux/stat';
import {
  SYS_chmod, SYS_chown, SYS_fchmod, SYS_fchmodat, SYS_fchown, SYS_fchownat, SYS_ftruncate, SYS_futimesat,
  SYS_lchown, SYS_truncate, SYS_utime, SYS_utimensat, SYS_utimes,
} from '../../abi/linux/syscall_numbers';
import { checkTruncate, chmod, chmodResult, chown, chownResult, setSize, truncate, utimes } from '../../vfs/attr_ops';
import type { PseudoInode } from '../../vfs/file_description';
import { breakLease } from '../../vfs/locks/lease';
import { locateVd } from '../../vfs/lookup';
import { now } from '../../vfs/time';
import { VfsFile } from '../../vfs/vfs_file';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import type { SyscallTable } from './types';
import { fsnotifyChange } from '../../vfs/fsnotify';
import { IN_MODIFY } from '../../abi/linux/inotify';
import { getFile } from './fd_util';
import { copyInPath } from './path';
import { INVALID_ID, makeKgid, makeKuid } from '../../kernel/ns/user_namespace';

function pathVd(t: Task, dirfd: number, addr: number, follow: boolean, emptyPath = false): VirtualDentry {
  return locateVd(t, dirfd, copyInPath(t, addr), follow, emptyPath);
}

/** The place of an fd's file; null for files with none (pipes, host stdio), whose attribute
 *  changes are accepted and go nowhere. O_PATH descriptors are EBADF. */
function fdVd(t: Task, fd: number): VirtualDentry | null {
  const f = getFile(t, fd);
  if (f.flags & O_PATH) fail(EBADF);
  return f instanceof VfsFile ? f.vd : null;
}

function fchmodat(t: Task, dirfd: number, addr: number, mode: number): number {
  chmod(t.creds, pathVd(t, dirfd, addr, true), mode);
  return 0;
}

function sysFchmod(t: Task, fd: number, mode: number): number {
  const vd = fdVd(t, fd);
  refuseAnon(t, fd);
  if (vd) chmod(t.creds, vd, mode);
  else setPseudo(t, fd, (p) => ({ mode: chmodResult(t.creds, p, mode) }));
  return 0;
}

/** An attribute change to a pseudo file's inode (a pipe's), decided by `change`. */
function setPseudo(t: Task, fd: number, change: (p: PseudoInode) => Partial<PseudoInode>): void {
  const p = t.fdTable.get(fd)?.pseudoInode;
  if (p === undefined) return;
  Object.assign(p, change(p));
  p.touchCtime();
}

/** chown_common: the ids as the caller's user namespace names them, to kernel ids; -1 stays,
 *  an unmapped id is EINVAL. */
function kernelIds(t: Task, uid: number, gid: number): [number, number] {
  const ns = t.creds.userNs;
  const ku = uid === -1 ? -1 : makeKuid(ns, uid);
  const kg = gid === -1 ? -1 : makeKgid(ns, gid);
  if (ku === INVALID_ID || kg === INVALID_ID) fail(EINVAL);
  return [ku, kg];
}

function fchownat(t: Task, dirfd: number, addr: number, uid: number, gid: number, flags: number): number {
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) fail(EINVAL);
  const vd = pathVd(t, dirfd, addr, (flags & AT_SYMLINK_NOFOLLOW) === 0, (flags & AT_EMPTY_PATH) !== 0);
  chown(t.creds, vd, ...kernelIds(t, uid, gid));
  return 0;
}

function sysFchown(t: Task, fd: number, uid: number, gid: number): number {
  const vd = fdVd(t, fd);
  refuseAnon(t, fd);
  const ids = kernelIds(t, uid, gid);
  if (vd) chown(t.creds, vd, ...ids);
  else setPseudo(t, fd, (p) => chownResult(t.creds, p, ...ids));
  return 0;
}

function sysTruncate(t: Task, addr: number, length: number): number | Promise<number> {
  if (length < 0) fail(EINVAL); // do_sys_truncate, before the path is read
  const vd = pathVd(t, AT_FDCWD, addr, true);
  checkTruncate(t.creds, vd);
  // vfs_truncate breaks leases as an open for writing does; then it starts again.
  const wait = breakLease(t, vd.inode.identity(), O_WRONLY);
  if (wait !== null) return wait().then(() => sysTruncate(t, addr, length));
  if (length >= 0 && vd.inode.isRegular) fsizeNewSizeOk(t, vd.inode.stat().size, length);
  truncate(t.creds, vd, length);
  return 0;
}

/** Linux do_sys_ftruncate: EINVAL for a negative length, a file not open for writing, or
 *  one that is not regular. */
function sysFtruncate(t: Task, fd: number, length: number): number {
  if (length < 0) fail(EINVAL);
  const f = getFile(t, fd);
  if (!(f instanceof VfsFile) || !f.writable || !f.vd.inode.isRegular) fail(EINVAL);
  if (isAppendOnly(f.vd.inode)) fail(EPERM);
  fsizeNewSizeOk(t, f.vd.inode.stat().size, length);
  setSize(t.creds, f.vd, length, true);
  return 0;
}

/** The two raw timespecs of utimensat: copied (EFAULT) before anything else is looked at,
 *  validated only once the file is found (vfs_utimes). */
interface RawTimes { sec: [number, number]; nsec: [number, number] }

function copyInTimespecs(t: Task, addr: number): RawTimes {
  const sec: [number, number] = [0, 0], nsec: [number, number] = [0, 0];
  for (let i = 0; i < 2; i++) {
    sec[i] = Number(BigInt.asIntN(64, t.mm.readU64(addr + i * 16)));
    nsec[i] = Number(BigInt.asIntN(64, t.mm.readU64(addr + i * 16 + 8)));
  }
  return { sec, nsec };
}

/** [atime, mtime] from raw timespecs (null: both now); undefined leaves one alone. */
function resolveTimes(raw: RawTimes | null): { times: (Timespec | undefined)[]; onlyNow: boolean } {
  if (raw === null) { const n = now(); return { times: [n, n], onlyNow: true }; }
  const times: (Timespec | undefined)[] = [];
  let onlyNow = true;
  for (let i = 0; i < 2; i++) {
    const nsec = raw.nsec[i];
    if (nsec === UTIME_OMIT) { times.push(undefined); continue; }
    if (nsec === UTIME_NOW) { times.push(now()); continue; }
    if (nsec < 0 || nsec > 999_999_999) fail(EINVAL);
    onlyNow = false;
    times.push({ sec: raw.sec[i], nsec });
  }
  return { times, onlyNow };
}

function setTimes(t: Task, vd: VirtualDentry | null, times: (Timespec | undefined)[], onlyNow: boolean): number {
  if (times[0] === undefined && times[1] === undefined) return 0;
  if (vd) utimes(t.creds, vd, times[0], times[1], onlyNow);
  return 0;
}

/** A file with no inode attributes to change: Linux's anonymous inodes (eventfd, epoll,
 *  timerfd...) refuse setattr. Pipes and sockets have inodes that take it. */
function refuseAnon(t: Task, fd: number): void {
  const f = t.fdTable.get(fd);
  if (f && !(f instanceof VfsFile) && (f.stat().mode & S_IFMT) === 0) fail(EOPNOTSUPP);
}

function sysUtimensat(t: Task, dirfd: number, addr: number, timesAddr: number, flags: number): number {
  const raw = timesAddr !== 0 ? copyInTimespecs(t, timesAddr) : null;
  // Nothing to do: not even the path or the flags are looked at.
  if (raw && raw.nsec[0] === UTIME_OMIT && raw.nsec[1] === UTIME_OMIT) return 0;
  // A NULL path means the file open at dirfd (the futimens case): flags must be 0.
  if (addr === 0 && dirfd !== AT_FDCWD) {
    if (flags !== 0) fail(EINVAL);
    const vd = fdVd(t, dirfd);
    refuseAnon(t, dirfd);
    const { times, onlyNow } = resolveTimes(raw);
    return setTimes(t, vd, times, onlyNow);
  }
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) fail(EINVAL);
  if (addr === 0) fail(EFAULT);
  const vd = pathVd(t, dirfd, addr, (flags & AT_SYMLINK_NOFOLLOW) === 0, (flags & AT_EMPTY_PATH) !== 0);
  const { times, onlyNow } = resolveTimes(raw);
  return setTimes(t, vd, times, onlyNow);
}

/** utimes/futimesat take struct timeval[2] (NULL: now), copied and checked before the path. */
function timevals(t: Task, dirfd: number, addr: number, tvAddr: number): number {
  let times: Timespec[] | null = null;
  if (tvAddr !== 0) {
    const raw = t.mm.copyIn(tvAddr, 32);
    const v = new DataView(raw.buffer, raw.byteOffset, 32);
    times = [];
    for (let i = 0; i < 2; i++) {
      const sec = Number(v.getBigInt64(i * 16, true));
      const usec = Number(v.getBigInt64(i * 16 + 8, true));
      if (usec < 0 || usec >= 1_000_000) fail(EINVAL);
      times.push({ sec, nsec: usec * 1000 });
    }
  }
  const vd = addr === 0 && dirfd !== AT_FDCWD ? fdVd(t, dirfd) : pathVd(t, dirfd, addr, true);
  if (times === null) { const n = now(); return setTimes(t, vd, [n, n], true); }
  return setTimes(t, vd, times, false);
}

/** utime takes struct utimbuf { actime, modtime } in seconds (NULL: now), copied first. */
function sysUtime(t: Task, addr: number, bufAddr: number): number {
  let times: Timespec[] | null = null;
  if (bufAddr !== 0) {
    const raw = t.mm.copyIn(bufAddr, 16);
    const v = new DataView(raw.buffer, raw.byteOffset, 16);
    times = [{ sec: Number(v.getBigInt64(0, true)), nsec: 0 }, { sec: Number(v.getBigInt64(8, true)), nsec: 0 }];
  }
  const vd = pathVd(t, AT_FDCWD, addr, true);
  if (times === null) { const n = now(); return setTimes(t, vd, [n, n], true); }
  return setTimes(t, vd, times, false);
}

export function registerAttr(table: SyscallTable): void {
  table[SYS_chmod] = { name: 'chmod', handler: (t, a) => fchmodat(t, AT_FDCWD, a.ptr(0), a.uint(1)), args: ['path', 'mode'] };
  table[SYS_fchmod] = { name: 'fchmod', handler: (t, a) => sysFchmod(t, a.int(0), a.uint(1)), args: ['fd', 'mode'] };
  table[SYS_fchmodat] = {
    name: 'fchmodat', handler: (t, a) => fchmodat(t, a.int(0), a.ptr(1), a.uint(2)), args: ['fd', 'path', 'mode'],
  };
  table[SYS_chown] = {
    name: 'chown', handler: (t, a) => fchownat(t, AT_FDCWD, a.ptr(0), a.int(1), a.int(2), 0), args: ['path', 'int', 'int'],
  };
  table[SYS_lchown] = {
    name: 'lchown', handler: (t, a) => fchownat(t, AT_FDCWD, a.ptr(0), a.int(1), a.int(2), AT_SYMLINK_NOFOLLOW),
    args: ['path', 'int', 'int'],
  };
  table[SYS_fchown] = { name: 'fchown', handler: (t, a) => sysFchown(t, a.int(0), a.int(1), a.int(2)), args: ['fd', 'int', 'int'] };
  table[SYS_fchownat] = {
    name: 'fchownat', handler: (t, a) => fchownat(t, a.int(0), a.ptr(1), a.int(2), a.int(3), a.int(4)),
    args: ['fd', 'path', 'int', 'int', 'hex'],
  };
  table[SYS_truncate] = { name: 'truncate', handler: (t, a) => sysTruncate(t, a.ptr(0), a.long(1)), args: ['path', 'long'] };
  table[SYS_ftruncate] = { name: 'ftruncate', handler: (t, a) => sysFtruncate(t, a.int(0), a.long(1)), args: ['fd', 'long'] };
  table[SYS_utimensat] = {
    name: 'utimensat', handler: (t, a) => sysUtimensat(t, a.int(0), a.ptr(1), a.ptr(2), a.int(3)),
    args: ['fd', 'path', 'ptr', 'hex'],
  };
  table[SYS_utimes] = { name: 'utimes', handler: (t, a) => timevals(t, AT_FDCWD, a.ptr(0), a.ptr(1)), args: ['path', 'ptr'] };
  table[SYS_futimesat] = {
    name: 'futimesat', handler: (t, a) => timevals(t, a.int(0), a.ptr(1), a.ptr(2)), args: ['fd', 'path', 'ptr'],
  };
  table[SYS_utime] = { name: 'utime', handler: (t, a) => sysUtime(t, a.ptr(0), a.ptr(1)), args: ['path', 'ptr'] };
}
