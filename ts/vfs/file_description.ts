// FileDescription: an open file (Linux struct file, gVisor vfs.FileDescription). Several fds,
// in one or more FDTables, may share one description (dup, fork), so it is reference counted
// and release() runs when the last reference goes. Status flags (O_APPEND, O_NONBLOCK...)
// live here, not in the fd: F_SETFL through one fd is seen through every duplicate.
//
// Implementations override what their file supports; the defaults are the Linux answers for a
// file that lacks the operation. The syscall layer does the checks common to every file (the
// EBADF for a description not opened for reading/writing, ESPIPE for pread on a pipe) before
// calling in, so an implementation sees only requests it could honour.

import type { Task } from '../kernel/task';
import type { MappingBacking } from '../mm/memory_manager';
import { SyscallError } from '../kernel/syscall_error';
import { EINVAL, ENOTTY, ESPIPE, ENXIO } from '../abi/linux/errno';
import { O_ACCMODE, O_PATH, O_RDONLY, O_RDWR, O_WRONLY,
  SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET } from '../abi/linux/fcntl';
import type { Stat } from '../abi/linux/stat';
import { POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../abi/linux/poll';

export type { Stat, Timespec } from '../abi/linux/stat';

/** What vfs_poll reports for a file without a poll operation (Linux DEFAULT_POLLMASK):
 *  such a file never makes anyone wait. */
export const DEFAULT_POLLMASK = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;

/** Called when a file's readiness may have changed; the waiter re-reads readiness() itself
 *  (wake-ups may be spurious, never missed). */
export type ReadinessCallback = () => void;

/** The inode of a file no mount shows (a pipe's, in pipefs): fchown and fchmod change its
 *  owner and mode, and flock/fcntl locks taken through any of its descriptions meet. */
export interface PseudoInode {
  uid: number;
  gid: number;
  mode: number;
  /** An attribute changed: ctime moves. */
  touchCtime(): void;
}

export abstract class FileDescription {
  /** O_* status flags and access mode, as F_GETFL reports them (O_CLOEXEC is per fd, not here). */
  flags: number;
  /** False for pipes, ttys and sockets: lseek and pread/pwrite fail with ESPIPE (Linux
   *  FMODE_LSEEK/FMODE_PREAD). */
  readonly seekable: boolean = false;
  private refs = 1;
  /** Who must forget this file when it goes (epoll's items, Linux eventpoll_release). */
  private releaseHooks: Set<() => void> | null = null;

  /** A new description holds one reference, its creator's (gVisor style: FDTable.newFD takes
   *  its own, so the creator drops its reference once the description is installed). */
  constructor(flags: number) {
    this.flags = flags;
  }

  /** Optional: read(2)/write(2) straight between the file and application memory [base,
   *  +len) of each range (a donated host fd, a pipe's pages: one copy, no sentry buffer), at
   *  offset (-1: the file position), with read/write's short-count rules; a Promise when it
   *  must wait (a pipe). undefined: not for this call, the syscall layer then goes through
   *  read()/write() with a sentry buffer. */
  /** A stream's bytes read but not delivered (the reader's buffer faulted part-way): the file
   *  gives them first to the next read, as Linux leaves them queued. Files whose reads do not
   *  consume a queue of their own need nothing here. */
  putBack?(data: Uint8Array): void;
  /** write(2) of 0 bytes calls write() with an empty buffer (vfs_write has no shortcut for a
   *  zero count): /proc files that parse what is written answer it (EINVAL) as Linux's do.
   *  Other files take the shortcut and return 0, as theirs do. */
  readonly writesEmpty?: boolean;
  /** Set on files with no open of their own (sockets, anonymous inodes): opening them again
   *  through a /proc/<pid>/fd link fails with it (sock_no_open's, no_open's ENXIO). */
  readonly reopenErrno?: number;
  readonly pseudoInode?: PseudoInode;
  readDirect?(t: Task, ranges: readonly { base: number; len: number }[], offset: number): number | Promise<number> | undefined;
  writeDirect?(t: Task, ranges: readonly { base: number; len: number }[], offset: number): number | Promise<number> | undefined;
  /** Optional, for copy_file_range/sendfile between two files the host holds (gofer files):
   *  the host fd whose bytes are this file's (undefined if they must go through read()), and
   *  on the output side, bytes copied by the host from fd at inAt to this file at offset (-1:
   *  the position), at most len; undefined: not this way, the copy goes through a buffer. */
  hostDataFd?(): number | undefined;
  copyFromHostFd?(t: Task, fd: number, inAt: number, offset: number, len: number): number | undefined;

  get readable(): boolean {
    if (this.flags & O_PATH) return false;
    const mode = this.flags & O_ACCMODE;
    return mode === O_RDONLY || mode === O_RDWR;
  }

  get writable(): boolean {
    if (this.flags & O_PATH) return false;
    const mode = this.flags & O_ACCMODE;
    return mode === O_WRONLY || mode === O_RDWR;
  }

  incRef(): void {
    if (this.refs <= 0) throw new Error('FileDescription.incRef after release');
    this.refs++;
  }

  decRef(): void {
    if (this.refs <= 0) throw new Error('FileDescription.decRef after release');
    if (--this.refs !== 0) return;
    this.release();
    const hooks = this.releaseHooks;
    this.releaseHooks = null;
    if (hooks) for (const h of hooks) h();
  }

  /** Run cb once the last reference is gone; returns the undo. */
  onRelease(cb: () => void): () => void {
    (this.releaseHooks ??= new Set()).add(cb);
    return () => { this.releaseHooks?.delete(cb); };
  }

  /** Live references (for tests and /proc fdinfo). */
  get refCount(): number { return this.refs; }

  /** F_SETOWN and its kin changed the owner (kernel/fasync.ts): a file that must watch
   *  something for its owner (a host socket's urgent data) starts or stops here. */
  ownerChanged(_t: Task, _owned: boolean): void {}

  /** F_SETFL/FIONBIO: the new status flags (only SETFL_MASK bits differ from the old ones).
   *  Files that must react (O_ASYNC owners, pipe packet mode) override this; throwing refuses. */
  setStatusFlags(flags: number): void {
    this.flags = flags;
  }

  /** Read into dst at offset, or at the file position (advancing it) when offset is -1.
   *  Returns the byte count; a Promise only if the read must wait. dst (and write's src) is
   *  the caller's buffer only until the call settles: copy what must be kept. */
  read(_t: Task, _dst: Uint8Array, _offset: number): number | Promise<number> {
    throw new SyscallError(EINVAL);
  }

  /** read() for a caller that cannot wait asynchronously (the program loader): a file
   *  whose regular read may go asynchronous (a gofer file on a host file system that may
   *  block) reads here with the sentry's thread waiting. */
  readNow(t: Task, dst: Uint8Array, offset: number): number {
    const n = this.read(t, dst, offset);
    if (typeof n !== 'number') throw new SyscallError(EINVAL);
    return n;
  }

  /** Write src at offset, or at the file position (advancing it) when offset is -1. */
  write(_t: Task, _src: Uint8Array, _offset: number): number | Promise<number> {
    throw new SyscallError(EINVAL);
  }

  /** Set the file position; whence is already known to be SEEK_SET..SEEK_HOLE. */
  lseek(_offset: number, _whence: number): number {
    throw new SyscallError(ESPIPE);
  }

  abstract stat(): Stat;

  /** fstat by task t: stat(), or, for a file whose host may make it wait (a donated fd on a
   *  FUSE or NFS tree), the attributes asked off the sentry's thread while t waits. */
  statBy(_t: Task): Stat | Promise<Stat> { return this.stat(); }

  ioctl(_t: Task, _cmd: number, _arg: number): number | Promise<number> {
    throw new SyscallError(ENOTTY);
  }

  /** Whether the file has a poll operation of its own (Linux file_can_poll). epoll refuses
   *  the others with EPERM; poll and select see them as always ready. */
  get pollable(): boolean { return false; }

  /** The POLL* bits that hold now. `mask` says which the caller cares about (a file may skip
   *  costly checks for the others); the caller filters the answer with it, plus POLLERR and
   *  POLLHUP, which are always of interest. Never blocks. */
  readiness(_mask: number): number { return DEFAULT_POLLMASK; }

  /** Call cb whenever readiness for any bit of mask (or POLLERR/POLLHUP) may have changed,
   *  until the returned function is called. cb runs from the event loop, never inside
   *  addWaiter. A file that is always ready never calls it. */
  addWaiter(_mask: number, _cb: ReadinessCallback): () => void { return noop; }

  /** Whether the file has an fasync operation: O_ASYNC then makes readiness changes signal
   *  its owner (kernel/fasync.ts). Pipes, FIFOs, sockets, terminals and inotify do. */
  get fasync(): boolean { return false; }

  /** tty_fasync: the owner O_ASYNC gives a terminal that has none yet: minus its foreground
   *  process group, or 0 for the caller's process. null for files that are not terminals. */
  fasyncDefaultOwner(): number | null { return null; }

  /** What mmap maps for this file, or null if it cannot be mapped (mmap then fails ENODEV). */
  mappable(): MappingBacking | null { return null; }

  /** How /proc/<pid>/fd/N and strace name this file. */
  describe(): string { return 'anon_inode:[unknown]'; }

  /** The last reference is gone: give back what the file holds. */
  release(): void {}
}

function noop(): void {}

/** Linux generic_file_llseek_size for a file whose data is all of [0, size): new position for
 *  (offset, whence) from position `pos`, EINVAL if negative, ENXIO past the end for DATA/HOLE. */
export function seekPosition(pos: number, size: number, offset: number, whence: number): number {
  let next: number;
  switch (whence) {
    case SEEK_SET: next = offset; break;
    case SEEK_CUR: next = pos + offset; break;
    case SEEK_END: next = size + offset; break;
    case SEEK_DATA:
      if (offset < 0 || offset >= size) throw new SyscallError(ENXIO);
      next = offset;
      break;
    case SEEK_HOLE:
      if (offset < 0 || offset >= size) throw new SyscallError(ENXIO);
      next = size;
      break;
    default: throw new SyscallError(EINVAL);
  }
  // Offsets past 2^53 cannot be represented exactly here; Linux would accept up to
  // s_maxbytes, but no file we serve is that large, so refusing them is the honest answer.
  if (next < 0 || !Number.isSafeInteger(next)) throw new SyscallError(EINVAL);
  return next;
}
