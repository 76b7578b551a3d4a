// FDTable: a process's file descriptor table (Linux files_struct, gVisor kernel.FDTable):
// fd number -> (FileDescription, FD_CLOEXEC). Each entry holds its own reference on the
// description: newFD/setFD take one, remove() hands the table's reference to the caller.
// Tasks created with CLONE_FILES share one table; fork() copies it.

import { locksRemovePosix } from './locks/posix_locks';
import { dnotifyFlush } from '../kernel/dnotify';
import { SyscallError } from '../kernel/syscall_error';
import { EBADF, EMFILE } from '../abi/linux/errno';
import { NR_OPEN_MAX } from '../abi/linux/fcntl';
import type { FileDescription } from './file_description';

export interface NewFDOptions {
  cloexec?: boolean;
  /** Lowest fd to use (F_DUPFD's argument). */
  minFd?: number;
  /** RLIMIT_NOFILE soft limit to apply; the table's own `limit` when omitted. */
  limit?: number;
}

/** The descriptor number a lent description has (lend): past NR_OPEN_MAX, so never a real one. */
export const LENT_FD = 0x7ffffff0;

/** filp_close: a process's close of any fd for a file drops its POSIX locks there
 *  (locks_remove_posix) and its directory notifications (dnotify_flush). */
function closing(desc: FileDescription, table: FDTable): void {
  locksRemovePosix(desc, table);
  dnotifyFlush(desc, table);
}

export class FDTable {
  private descs: (FileDescription | undefined)[] = [];
  private cloexec: boolean[] = [];
  /** No fd below this is free (Linux next_fd): where the search for a free fd starts. */
  private firstFree = 0;
  /** Default RLIMIT_NOFILE soft limit for callers that do not pass one. */
  limit = 1024;

  /** A description lent for one call under a number no table uses (see lend). */
  private lentFd = -1;
  private lentDesc: FileDescription | undefined;

  get(fd: number): FileDescription | undefined {
    if (fd >= 0) return this.descs[fd] ?? (fd === this.lentFd ? this.lentDesc : undefined);
    return undefined;
  }

  /** Run fn with desc reachable as fd LENT_FD (io_uring's fixed files: a request that names
   *  a ring slot runs the syscall of the same name, which looks its descriptor up here). The
   *  number is past NR_OPEN_MAX, so no descriptor has it and nothing can install one there;
   *  the loan ends with fn's synchronous part. */
  lend<T>(desc: FileDescription, fn: (fd: number) => T): T {
    const [pf, pd] = [this.lentFd, this.lentDesc];
    this.lentFd = LENT_FD;
    this.lentDesc = desc;
    try {
      return fn(LENT_FD);
    } finally {
      this.lentFd = pf;
      this.lentDesc = pd;
    }
  }

  /** Install desc at the lowest free fd >= minFd; EMFILE when none is below the limit. */
  newFD(desc: FileDescription, opts: NewFDOptions = {}): number {
    const limit = clampLimit(opts.limit ?? this.limit);
    const min = opts.minFd ?? 0;
    const fd = this.freeFrom(Math.max(min, min <= this.firstFree ? this.firstFree : min), limit);
    if (min <= this.firstFree) this.firstFree = fd + 1;
    this.install(fd, desc, opts.cloexec ?? false);
    return fd;
  }

  /** The fds the next `count` newFD calls would take, without taking them (socketpair
   *  writes its two to the caller before it makes the sockets); EMFILE as newFD. */
  peekFree(count: number, limit?: number): number[] {
    const lim = clampLimit(limit ?? this.limit);
    const fds: number[] = [];
    let fd = this.firstFree - 1;
    while (fds.length < count) {
      fd = this.freeFrom(fd + 1, lim);
      fds.push(fd);
    }
    return fds;
  }

  /** The lowest free fd >= from; EMFILE when none is below limit. */
  private freeFrom(from: number, limit: number): number {
    let fd = from;
    while (fd < limit && this.descs[fd] !== undefined) fd++;
    if (fd >= limit) throw new SyscallError(EMFILE);
    return fd;
  }

  /** Put desc at exactly fd (dup2/dup3), closing what was there. EBADF at or past the limit. */
  setFD(fd: number, desc: FileDescription, cloexec: boolean, limit?: number): void {
    if (fd < 0 || fd >= clampLimit(limit ?? this.limit)) throw new SyscallError(EBADF);
    const old = this.descs[fd];
    if (old !== undefined && old !== desc) closing(old, this);
    this.install(fd, desc, cloexec);
    // Drop the old reference last: desc may be old itself, and release() may be observable.
    old?.decRef();
  }

  /** Take fd out of the table. The caller gets the table's reference and must decRef it. */
  remove(fd: number): FileDescription | undefined {
    const desc = this.get(fd);
    if (!desc) return undefined;
    closing(desc, this);
    this.descs[fd] = undefined;
    this.cloexec[fd] = false;
    if (fd < this.firstFree) this.firstFree = fd;
    return desc;
  }

  getFlags(fd: number): { cloexec: boolean } | undefined {
    return this.get(fd) ? { cloexec: this.cloexec[fd] ?? false } : undefined;
  }

  /** Set FD_CLOEXEC; false if fd is not open. */
  setFlags(fd: number, flags: { cloexec: boolean }): boolean {
    if (!this.get(fd)) return false;
    this.cloexec[fd] = flags.cloexec;
    return true;
  }

  /** A copy for fork without CLONE_FILES: same descriptions, one more reference each. */
  fork(): FDTable {
    const t = new FDTable();
    t.limit = this.limit;
    t.firstFree = this.firstFree;
    this.descs.forEach((d, fd) => {
      if (!d) return;
      d.incRef();
      t.descs[fd] = d;
      t.cloexec[fd] = this.cloexec[fd] ?? false;
    });
    return t;
  }

  /** execve: close every fd marked FD_CLOEXEC. */
  closeOnExec(): void {
    this.descs.forEach((d, fd) => {
      if (d && this.cloexec[fd]) this.remove(fd)?.decRef();
    });
  }

  /** The process is gone: close everything. */
  releaseAll(): void {
    this.descs.forEach((d, fd) => {
      if (d) this.remove(fd)?.decRef();
    });
    this.descs = [];
    this.cloexec = [];
    this.firstFree = 0;
  }

  /** Open fds in ascending order (for /proc/self/fd and close_range). */
  fds(): number[] {
    const out: number[] = [];
    this.descs.forEach((d, fd) => { if (d) out.push(fd); });
    return out;
  }

  private install(fd: number, desc: FileDescription, cloexec: boolean): void {
    desc.incRef();
    this.descs[fd] = desc;
    this.cloexec[fd] = cloexec;
  }
}

/** RLIMIT_NOFILE can be RLIM_INFINITY; no table grows past the largest fs.nr_open (callers
 *  pass limits already bounded by the current one, syscalls/linux/fd_util.ts nofileLimit). */
function clampLimit(limit: number): number {
  return Math.min(limit, NR_OPEN_MAX);
}
