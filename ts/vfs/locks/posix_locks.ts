// POSIX record locks and OFD locks (Linux fs/locks.c): byte ranges of a file, read (shared)
// or write (exclusive), held by an owner. A POSIX lock's owner is the fd table of the process
// that set it (so a close of any fd for the file by that process drops all its locks there,
// and fork does not pass them on); an OFD lock's owner is the open file description. An
// owner's own locks never conflict: a new one replaces what it held over its range, and
// neighbours of one type merge. F_SETLKW waits, interruptibly, and a POSIX wait that would
// close a cycle of waiters is EDEADLK. Owns the lock tables; the syscalls decode struct flock.

import type { Inode } from '../inode';
import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { block } from '../../kernel/blocking';
import { EAGAIN, EDEADLOCK as EDEADLK } from '../../abi/linux/errno';
import type { FileDescription } from '../file_description';
import { VfsFile } from '../vfs_file';

export const F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;
/** posix_locks_deadlock gives up following the chain of waiters after this many steps. */
const MAX_DEADLK_ITERATIONS = 10;

export interface FileLock {
  owner: object;
  ofd: boolean;
  /** What F_GETLK reports: the locker's tgid, -1 for an OFD lock. */
  pid: number;
  type: number;
  start: number;
  /** Inclusive; Infinity: to the end of the file, however far it grows. */
  end: number;
}

class LockTable {
  locks: FileLock[] = [];
  readonly waiters = new Set<() => void>();

  wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

const tables = new WeakMap<object, LockTable>();
/** The files with locks held (Linux's file_lock_list, for /proc/locks); a file leaves when
 *  its last lock goes. */
const held = new Set<object>();

function noteHeld(key: object, t: LockTable): void {
  if (t.locks.length > 0) held.add(key);
  else held.delete(key);
}

/** When each lock was taken, for /proc/locks's order (newest first, as Linux adds each new
 *  lock at the head of its list). A lock cut in two by an unlock keeps its number. */
const lockSeq = new WeakMap<FileLock, number>();
let lastSeq = 0;

/** The next number in the order locks are taken (flock's share it). */
export function nextLockSeq(): number { return ++lastSeq; }

/** Every lock held, with the file it is on (the lock table's key: an inode, or an open file
 *  for a file that has none) and when it was taken. */
export function* heldPosixLocks(): Generator<{ key: object; lock: FileLock; seq: number }> {
  for (const key of held) for (const lock of tables.get(key)?.locks ?? []) yield { key, lock, seq: lockSeq.get(lock) ?? 0 };
}
/** The lock each blocked POSIX owner waits on (Linux's blocked_hash). */
const blockedOn = new Map<object, FileLock>();
const ofdReleaseHooked = new WeakSet<FileDescription>();

/** Locks belong to the file, not to one way of reaching it (a hard link, another object the
 *  file system made for it: Inode.identity). */
export function lockKey(f: FileDescription): object {
  if (!(f instanceof VfsFile)) return f.pseudoInode ?? f;
  const key = f.inode.identity();
  if (!shown.has(key)) shown.set(key, f.inode);
  return key;
}

/** An inode as the program sees the file of a lock key (an overlay's, where the key is its
 *  upper inode): /proc/locks names the file by its device and inode number. */
const shown = new WeakMap<object, Inode>();

export function shownInode(key: object): Inode | undefined {
  return shown.get(key);
}

function tableOf(key: object): LockTable {
  let t = tables.get(key);
  if (t === undefined) {
    t = new LockTable();
    tables.set(key, t);
  }
  return t;
}

function conflicts(a: FileLock, b: FileLock): boolean {
  if (a.owner === b.owner) return false;
  if (a.start > b.end || b.start > a.end) return false;
  return a.type === F_WRLCK || b.type === F_WRLCK;
}

/** F_GETLK: the first lock that would stop `req`, or null. */
export function testLock(key: object, req: FileLock): FileLock | null {
  return tables.get(key)?.locks.find((l) => conflicts(l, req)) ?? null;
}

/** Take the owner's locks off [start, end], keeping what sticks out on either side. */
function carve(t: LockTable, owner: object, start: number, end: number): void {
  const out: FileLock[] = [];
  for (const l of t.locks) {
    if (l.owner !== owner || l.start > end || start > l.end) {
      out.push(l);
      continue;
    }
    if (l.start < start) out.push(sameSeq(l, { ...l, end: start - 1 }));
    if (l.end > end) out.push(sameSeq(l, { ...l, start: end + 1 }));
  }
  t.locks = out;
}

function sameSeq(from: FileLock, to: FileLock): FileLock {
  lockSeq.set(to, lockSeq.get(from) ?? 0);
  return to;
}

/** Insert `req` for its owner, merging with touching locks of its type. */
function apply(t: LockTable, req: FileLock): void {
  carve(t, req.owner, req.start, req.end);
  let merged = { ...req };
  const rest: FileLock[] = [];
  for (const l of t.locks) {
    const touches = l.owner === req.owner && l.type === req.type &&
      l.start <= (merged.end === Infinity ? Infinity : merged.end + 1) && merged.start <= l.end + 1;
    if (touches) merged = { ...merged, start: Math.min(merged.start, l.start), end: Math.max(merged.end, l.end) };
    else rest.push(l);
  }
  lockSeq.set(merged, nextLockSeq());
  rest.push(merged);
  rest.sort((a, b) => a.start - b.start);
  t.locks = rest;
}

/** Whether owner waiting for `blocker` would complete a cycle of POSIX waiters. */
function wouldDeadlock(owner: object, blocker: FileLock): boolean {
  let b: FileLock | undefined = blocker;
  for (let i = 0; b !== undefined && i < MAX_DEADLK_ITERATIONS; i++) {
    if (b.ofd) return false;
    if (b.owner === owner) return true;
    b = blockedOn.get(b.owner);
  }
  return false;
}

/** F_SETLK / F_SETLKW and their OFD forms; req.type F_UNLCK unlocks the range. */
export function setLock(t: Task, f: FileDescription, req: FileLock, wait: boolean): number | Promise<number> {
  const key = lockKey(f);
  const table = tableOf(key);
  if (req.ofd && !ofdReleaseHooked.has(f)) {
    ofdReleaseHooked.add(f);
    f.onRelease(() => releaseOwner(key, f));
  }
  if (req.type === F_UNLCK) {
    carve(table, req.owner, req.start, req.end);
    noteHeld(key, table);
    table.wake();
    return 0;
  }
  const blocker = table.locks.find((l) => conflicts(l, req));
  if (blocker === undefined) {
    apply(table, req);
    noteHeld(key, table);
    table.wake(); // a downgrade may let readers in
    return 0;
  }
  if (!wait) throw new SyscallError(EAGAIN);
  if (!req.ofd && wouldDeadlock(req.owner, blocker)) throw new SyscallError(EDEADLK);
  if (!req.ofd) blockedOn.set(req.owner, blocker);
  const done = (): void => { if (blockedOn.get(req.owner) === blocker) blockedOn.delete(req.owner); };
  return block<void>(t, (wake) => {
    const w = (): void => wake();
    table.waiters.add(w);
    return () => { table.waiters.delete(w); };
  }).then(() => {
    done();
    return setLock(t, f, req, wait);
  }, (e: unknown) => {
    done();
    throw e;
  });
}

/** Every lock `owner` holds on the file at key goes (a POSIX owner's close, an OFD's release). */
export function releaseOwner(key: object, owner: object): void {
  const t = tables.get(key);
  if (t === undefined) return;
  const before = t.locks.length;
  t.locks = t.locks.filter((l) => l.owner !== owner);
  noteHeld(key, t);
  if (t.locks.length !== before) t.wake();
}

/** locks_remove_posix: a process closed an fd of f; owner is its fd table. */
export function locksRemovePosix(f: FileDescription, owner: object): void {
  releaseOwner(lockKey(f), owner);
}
