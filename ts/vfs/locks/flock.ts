// flock(2) locks (Linux fs/locks.c flock_lock_inode): a whole-file shared or exclusive lock
// held by an open file description, so dup'd and inherited fds share it, and it goes when
// the description is released. Changing a held lock's type first drops the old one (not
// atomic, as in Linux); a conflicting request waits, interruptibly, unless LOCK_NB.

import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { block } from '../../kernel/blocking';
import { EAGAIN } from '../../abi/linux/errno';
import type { FileDescription } from '../file_description';
import { lockKey, nextLockSeq } from './posix_locks';

export const LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;

class FlockTable {
  readonly holders = new Map<FileDescription, number>();
  /** The tgid (the sentry's) of the process that took each holder's lock, as fl_pid, and
   *  when it was taken (nextLockSeq). */
  readonly pids = new Map<FileDescription, { tgid: number; seq: number }>();
  readonly waiters = new Set<() => void>();

  wake(): void {
    for (const w of [...this.waiters]) w();
  }

  blocked(f: FileDescription, op: number): boolean {
    for (const [g, held] of this.holders) {
      if (g !== f && (op === LOCK_EX || held === LOCK_EX)) return true;
    }
    return false;
  }
}

const tables = new WeakMap<object, FlockTable>();
/** The files with flock locks held (file_lock_list, for /proc/locks). */
const held = new Set<object>();

function noteHeld(key: object, t: FlockTable): void {
  if (t.holders.size > 0) held.add(key);
  else held.delete(key);
}

/** Every flock lock held: the file's lock key, LOCK_SH or LOCK_EX, the locker's tgid and
 *  when it was taken. */
export function* heldFlocks(): Generator<{ key: object; op: number; tgid: number; seq: number }> {
  for (const key of held) {
    const t = tables.get(key);
    if (t) for (const [f, op] of t.holders) yield { key, op, ...(t.pids.get(f) ?? { tgid: 0, seq: 0 }) };
  }
}
const releaseHooked = new WeakSet<FileDescription>();

/** op is LOCK_SH, LOCK_EX or LOCK_UN, checked by the caller. */
export function flockFile(t: Task, f: FileDescription, op: number, nonblock: boolean): number | Promise<number> {
  const key = lockKey(f);
  let table = tables.get(key);
  if (table === undefined) {
    table = new FlockTable();
    tables.set(key, table);
  }
  const tbl = table;
  if (!releaseHooked.has(f)) {
    releaseHooked.add(f);
    f.onRelease(() => {
      tbl.pids.delete(f);
      if (tbl.holders.delete(f)) {
        noteHeld(key, tbl);
        tbl.wake();
      }
    });
  }
  const had = tbl.holders.get(f);
  if (had === op) return 0;
  if (had !== undefined) {
    tbl.holders.delete(f);
    tbl.pids.delete(f);
    noteHeld(key, tbl);
    tbl.wake();
  }
  if (op === LOCK_UN) return 0;
  const attempt = (): number | Promise<number> => {
    if (!tbl.blocked(f, op)) {
      tbl.holders.set(f, op);
      tbl.pids.set(f, { tgid: t.tg.tgid, seq: nextLockSeq() });
      noteHeld(key, tbl);
      return 0;
    }
    if (nonblock) throw new SyscallError(EAGAIN);
    return block<void>(t, (wake) => {
      const w = (): void => wake();
      tbl.waiters.add(w);
      return () => { tbl.waiters.delete(w); };
    }).then(attempt);
  };
  return attempt();
}
