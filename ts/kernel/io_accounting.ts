// Per-task I/O accounting (Linux task_io_accounting, /proc/<pid>/io): bytes and calls of the
// read and write families (vfs_read/vfs_write: read, pread64, readv, preadv(2) and the write
// twins, sendfile and copy_file_range), kept per thread; a process's figures add its dead
// threads' and, once reaped, its children's (wait_task_zombie folds them into the parent's).
// Storage-level counts (read_bytes, write_bytes) are not kept: nothing here reaches a disk
// the sandbox could measure, so they read as 0. Owns only the counters.

import type { Task } from './task';
import type { ThreadGroup } from './thread_group';
import type { SyscallResult, SyscallReturn } from '../syscalls/linux/types';
import { WIDE_ZERO } from '../tcpip/wide_field';

export interface IoAcct { rchar: number; wchar: number; syscr: number; syscw: number }

const perTask = new WeakMap<Task, IoAcct>();
/** A process's dead threads' and reaped children's (signal_struct ioac). */
const perProcess = new WeakMap<ThreadGroup, IoAcct>();

// Byte counts pass 2^31 in seconds of streaming: doubles from the start (wide_field.ts), or
// the first big count changes the counters' shape and deoptimizes read/write's path.
function zero(): IoAcct { return { rchar: WIDE_ZERO, wchar: WIDE_ZERO, syscr: WIDE_ZERO, syscw: WIDE_ZERO }; }

function acctOf(t: Task): IoAcct {
  let a = perTask.get(t);
  if (a === undefined) { a = zero(); perTask.set(t, a); }
  return a;
}

function add(to: IoAcct, from: IoAcct): void {
  to.rchar += from.rchar; to.wchar += from.wchar; to.syscr += from.syscr; to.syscw += from.syscw;
}

function charge(t: Task, write: boolean, n: SyscallResult): void {
  const a = acctOf(t);
  const bytes = typeof n === 'bigint' ? Number(n) : n;
  if (write) { a.syscw++; if (bytes > 0) a.wchar += bytes; } else { a.syscr++; if (bytes > 0) a.rchar += bytes; }
}

/** Runs one read (write) that reached the file and counts it, once it is done: a call that
 *  fails still counts as a call. */
export function accountIo(t: Task, write: boolean, io: () => SyscallReturn): SyscallReturn {
  let r: SyscallReturn;
  try {
    r = io();
  } catch (e) {
    charge(t, write, 0);
    throw e;
  }
  if (typeof r === 'object') {
    return r.then((n) => { charge(t, write, n); return n; }, (e: unknown) => { charge(t, write, 0); throw e; });
  }
  charge(t, write, r);
  return r;
}

/** sendfile/copy_file_range: `bytes` read and written, one call of each. */
export function accountCopy(t: Task, bytes: number): void {
  const a = acctOf(t);
  a.rchar += bytes; a.wchar += bytes; a.syscr++; a.syscw++;
}

/** A thread exits: its counts stay with its process. */
export function chargeExitedIo(t: Task): void {
  const a = perTask.get(t);
  if (a === undefined) return;
  let p = perProcess.get(t.tg);
  if (p === undefined) { p = zero(); perProcess.set(t.tg, p); }
  add(p, a);
  perTask.delete(t);
}

/** wait reaps child: its process-wide counts become part of the parent's. */
export function chargeReapedIo(parent: ThreadGroup, child: ThreadGroup): void {
  const c = processIo(child);
  let p = perProcess.get(parent);
  if (p === undefined) { p = zero(); perProcess.set(parent, p); }
  add(p, c);
}

/** The thread's own counts (/proc/<pid>/task/<tid>/io). */
export function threadIo(t: Task): IoAcct {
  return { ...acctOf(t) };
}

/** The process's: its threads', its dead threads' and its reaped children's. */
export function processIo(tg: ThreadGroup): IoAcct {
  const sum = zero();
  const p = perProcess.get(tg);
  if (p !== undefined) add(sum, p);
  for (const t of tg.tasks) { const a = perTask.get(t); if (a !== undefined) add(sum, a); }
  return sum;
}

export function ioText(a: IoAcct): string {
  return `rchar: ${a.rchar}\nwchar: ${a.wchar}\nsyscr: ${a.syscr}\nsyscw: ${a.syscw}\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n`;
}
