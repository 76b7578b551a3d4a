// File leases (Linux fs/locks.c generic_setlease, __break_lease): a read or write lease on a
// regular file, held by an open file description. An open that conflicts with one (any open
// against a write lease, an open for writing against a read lease) breaks it: the holder's
// owner gets SIGIO (or its F_SETSIG signal, si_code POLL_MSG), the opener fails EWOULDBLOCK
// if O_NONBLOCK, else waits until the holder gives the lease up or downgrades it, or until
// /proc/sys/fs/lease-break-time seconds have passed, when the lease is taken away.
// To tell who else has the file open, every open of a regular file is counted here
// (noteOpen, the i_readcount/i_writecount Linux keeps). truncate(2) does not break leases.

import type { Task } from '../../kernel/task';
import type { Kernel } from '../../kernel/kernel';
import { fail } from '../../kernel/syscall_error';
import { block } from '../../kernel/blocking';
import { defaultOwner, signalOwner, POLL_MSG } from '../../kernel/fasync';
import { EACCES, EAGAIN, EINVAL } from '../../abi/linux/errno';
import { O_ACCMODE, O_NONBLOCK, O_RDONLY, O_TRUNC } from '../../abi/linux/fcntl';
import type { FileDescription } from '../file_description';
import { VfsFile } from '../vfs_file';
import { lockKey } from './posix_locks';
import { F_RDLCK, F_UNLCK, F_WRLCK } from './posix_locks';

interface Lease {
  file: FileDescription;
  type: number;
  /** The fd F_SETLEASE came through (the lease's fasync entry: si_fd). */
  fd: number;
  /** While a break is under way: what the holder must come down to. */
  breakingTo: number | null;
}

interface InodeLeases {
  leases: Lease[];
  /** Opens for reading only and for writing (i_readcount, i_writecount). */
  readers: number;
  writers: number;
  /** Breakers waiting for the leases to change. */
  waiters: Set<() => void>;
}

const CAP_LEASE = 28;

const byInode = new WeakMap<object, InodeLeases>();
const breakTimes = new WeakMap<Kernel, number>();

function stateOf(key: object): InodeLeases {
  let s = byInode.get(key);
  if (s === undefined) {
    s = { leases: [], readers: 0, writers: 0, waiters: new Set() };
    byInode.set(key, s);
  }
  return s;
}

function wakeBreakers(s: InodeLeases): void {
  for (const w of [...s.waiters]) w();
}

/** /proc/sys/fs/lease-break-time, in seconds. */
export function leaseBreakTime(k: Kernel): number { return breakTimes.get(k) ?? 45; }

export function setLeaseBreakTime(k: Kernel, text: string): void {
  const s = text.trim();
  if (!/^[+-]?\d+$/.test(s)) fail(EINVAL);
  const v = Number(s);
  if (v < -0x80000000 || v > 0x7fffffff) fail(EINVAL);
  breakTimes.set(k, v);
}

/** A regular file was opened: count it, and forget it (and any lease it holds) at release. */
export function noteOpen(f: VfsFile): void {
  const key = lockKey(f);
  const s = stateOf(key);
  const writes = f.writable;
  const readOnly = (f.flags & O_ACCMODE) === O_RDONLY;
  if (writes) s.writers++;
  else if (readOnly) s.readers++;
  f.onRelease(() => {
    if (writes) s.writers--;
    else if (readOnly) s.readers--;
    const i = s.leases.findIndex((l) => l.file === f);
    if (i >= 0) {
      s.leases.splice(i, 1);
      wakeBreakers(s);
    }
  });
}

/** Whether the lease as held now stands in the way of an open (for writing or not). */
function conflicts(l: Lease, wantWrite: boolean): boolean {
  return l.type === F_WRLCK || (wantWrite && l.type === F_RDLCK);
}

/** __break_lease for an open with `flags` of the file at `key`: nothing to do (null),
 *  EWOULDBLOCK (O_NONBLOCK), or the wait the caller runs and awaits before opening again. */
export function breakLease(t: Task, key: object, flags: number): (() => Promise<void>) | null {
  const s = byInode.get(key);
  if (s === undefined || s.leases.length === 0) return null;
  const wantWrite = (flags & O_ACCMODE) !== O_RDONLY || (flags & O_TRUNC) !== 0;
  const target = wantWrite ? F_UNLCK : F_RDLCK;
  let any = false;
  for (const l of s.leases) {
    if (!conflicts(l, wantWrite)) continue;
    any = true;
    if (l.breakingTo === null || (target === F_UNLCK && l.breakingTo !== F_UNLCK)) {
      l.breakingTo = target;
      signalOwner(t.kernel, l.file, l.fd, POLL_MSG);
    }
  }
  if (!any) return null;
  if (flags & O_NONBLOCK) fail(EAGAIN);
  const seconds = leaseBreakTime(t.kernel);
  const stillConflicting = (): boolean => s.leases.some((l) => conflicts(l, wantWrite));
  return () => block<void>(t, (wake) => {
    const w = (): void => { if (!stillConflicting()) wake(); };
    s.waiters.add(w);
    // A writer waits with its write access taken (do_dentry_open breaks the lease after
    // get_write_access): the holder cannot downgrade to F_RDLCK meanwhile (EAGAIN).
    if (wantWrite) s.writers++;
    return () => {
      s.waiters.delete(w);
      if (wantWrite) s.writers--;
    };
  }, { timeoutNs: BigInt(Math.max(0, seconds)) * 1_000_000_000n }, () => {
    // lease_break_time passed: the leases go as if the holder had given them up.
    for (const l of [...s.leases]) {
      if (!conflicts(l, wantWrite)) continue;
      if (l.breakingTo === F_RDLCK) { l.type = F_RDLCK; l.breakingTo = null; } else s.leases.splice(s.leases.indexOf(l), 1);
    }
    wakeBreakers(s);
  });
}

/** F_GETLEASE: the lease f holds (during a break, what it is being broken to). */
export function getLease(f: FileDescription): number {
  if (!(f instanceof VfsFile)) return F_UNLCK;
  const l = byInode.get(lockKey(f))?.leases.find((x) => x.file === f);
  return l === undefined ? F_UNLCK : l.breakingTo ?? l.type;
}

/** F_SETLEASE (fcntl_setlease, generic_setlease, check_conflicting_open). */
export function setLease(t: Task, f: FileDescription, fd: number, type: number): number {
  if (!(f instanceof VfsFile) || !f.inode.isRegular) fail(EINVAL);
  if (type !== F_UNLCK && t.creds.fsuid !== f.stat().uid && !t.creds.hasCapability(CAP_LEASE)) fail(EACCES);
  if (type !== F_RDLCK && type !== F_WRLCK && type !== F_UNLCK) fail(EINVAL);
  const s = stateOf(lockKey(f));
  const mine = s.leases.find((l) => l.file === f);
  if (type === F_UNLCK) {
    if (mine === undefined) fail(EAGAIN);
    s.leases.splice(s.leases.indexOf(mine), 1);
    wakeBreakers(s);
    return 0;
  }
  if (type === F_RDLCK && s.writers > 0) fail(EAGAIN);
  if (type === F_WRLCK) {
    const selfW = f.writable ? 1 : 0;
    const selfR = !f.writable && (f.flags & O_ACCMODE) === O_RDONLY ? 1 : 0;
    if (s.writers !== selfW || s.readers !== selfR) fail(EAGAIN);
    if (s.leases.some((l) => l !== mine)) fail(EAGAIN);
  }
  // No new lease while another is being broken for a writer (FL_UNLOCK_PENDING).
  if (mine === undefined && s.leases.some((l) => l.breakingTo === F_UNLCK)) fail(EAGAIN);
  defaultOwner(t, f);
  if (mine !== undefined) {
    // lease_modify: a downgrade to F_RDLCK ends a downgrade break; an unlock break stays
    // pending until the lease goes.
    mine.type = type;
    mine.fd = fd;
    if (type === F_RDLCK && mine.breakingTo === F_RDLCK) mine.breakingTo = null;
  } else {
    s.leases.push({ file: f, type, fd, breakingTo: null });
  }
  wakeBreakers(s);
  return 0;
}
