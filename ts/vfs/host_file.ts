// HostFileDescription: an open file backed by a host fd the sandbox was given (stdin, stdout
// and stderr are the host's 0, 1, 2). Reads and writes go to the host fd and never block the
// Node event loop:
//   * regular files (and block devices, directories) never block: plain readSync/writeSync;
//   * pipes, ttys, sockets, character devices: poll first; if ready, the synchronous call;
//     otherwise, unless the application asked for O_NONBLOCK (then EAGAIN), the call goes to
//     libuv's thread pool, and if the host fd itself turns out to be non-blocking (our parent
//     or Node set O_NONBLOCK on it) we poll with a short backoff until it is ready.
// The file position of a regular file is the host's own offset, shared with whoever gave us
// the fd (as after fork): reads and writes use it, and lseek moves it through the addon's
// hostLseek (Node offers no lseek).

import * as fs from 'node:fs';
import { addon } from '../native/addon';
import type { Task } from '../kernel/task';
import { SyscallError } from '../kernel/syscall_error';
import { EAGAIN, EBADF, ENOTTY, ESPIPE } from '../abi/linux/errno';
import { O_APPEND, O_CLOEXEC, O_LARGEFILE, O_NONBLOCK, O_RDWR } from '../abi/linux/fcntl';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT } from '../abi/linux/poll';
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFMT, S_IFREG, devMajor, type Stat } from '../abi/linux/stat';
import { DEFAULT_POLLMASK, FileDescription, seekPosition, type ReadinessCallback } from './file_description';
import { pollWithBackoff } from '../kernel/poll/backoff_waiter';
import { isEAGAIN, throwHostError } from './host_errno';
import { HostTty, consoleNodePath, consoleNodeStat, setConsoleOpener } from './host_tty';

export type PollFn = (fd: number, events: number) => number;

const SEEK_SET = 0, SEEK_CUR = 1;

/** lseek on the host fd; host errors become the same errno for the application. */
function hostSeek(fd: number, offset: number, whence: number): number {
  const r = addon().hostLseek(fd, offset, whence);
  if (r < 0) throw new SyscallError(-r);
  return r;
}

export interface HostFileOptions {
  /** Status flags the application sees; read from /proc/self/fdinfo when omitted. */
  flags?: number;
  /** Close the host fd when the last reference goes (never for the sentry's own stdio). */
  closeOnRelease?: boolean;
  /** poll(2) with a zero timeout; the addon's pollHostFd by default. */
  poll?: PollFn;
}

type Kind = 'regular' | 'stream' | 'memdev';

/** Largest synchronous write to a stream: a pipe that polls writable has room for one page,
 *  so a write this size cannot block. */
const STREAM_WRITE_CHUNK = 4096;
const MEM_MAJOR = 1; // /dev/null, /dev/zero, /dev/full, /dev/urandom...

export class HostFileDescription extends FileDescription {
  override readonly seekable: boolean;
  private readonly kind: Kind;
  private readonly tty: HostTty | null;
  private readonly closeOnRelease: boolean;
  private readonly pollFn: PollFn;

  constructor(readonly hostFd: number, opts: HostFileOptions = {}) {
    let st: fs.BigIntStats;
    try { st = fs.fstatSync(hostFd, { bigint: true }); } catch (e) { throwHostError(e); }
    super(opts.flags ?? hostStatusFlags(hostFd));
    const type = Number(st.mode) & S_IFMT;
    if (type === S_IFREG || type === S_IFBLK || type === S_IFDIR) this.kind = 'regular';
    else if (type === S_IFCHR && devMajor(Number(st.rdev)) === MEM_MAJOR) this.kind = 'memdev';
    else this.kind = 'stream';
    this.seekable = this.kind !== 'stream';
    this.tty = type === S_IFCHR && addon().hostIsatty(hostFd) ? new HostTty(hostFd) : null;
    this.closeOnRelease = opts.closeOnRelease ?? false;
    this.pollFn = opts.poll ?? ((fd, ev) => addon().pollHostFd(fd, ev));
  }

  override read(t: Task, dst: Uint8Array, offset: number): number | Promise<number> {
    this.tty?.checkRead(t);
    if (dst.length === 0) return 0;
    if (this.kind === 'stream') return this.readStream(dst);
    if (this.kind === 'memdev') return this.syncIO(() => fs.readSync(this.hostFd, dst, 0, dst.length, null));
    // The file position is the host's own (shared with whoever else holds the file).
    const position = offset >= 0 ? offset : null;
    let n: number;
    try { n = fs.readSync(this.hostFd, dst, 0, dst.length, position); } catch (e) { throwHostError(e); }
    return n;
  }

  override write(t: Task, src: Uint8Array, offset: number): number | Promise<number> {
    this.tty?.checkWrite(t);
    if (src.length === 0) return 0;
    if (this.kind === 'stream') return this.writeStream(src);
    if (this.kind === 'memdev') return this.syncIO(() => fs.writeSync(this.hostFd, src, 0, src.length, null));
    let position = offset >= 0 ? offset : null;
    // O_APPEND set by the application (the host fd may lack it): every write goes at the end,
    // even pwrite's, as on Linux.
    if (this.flags & O_APPEND) {
      position = this.size();
      if (offset < 0) hostSeek(this.hostFd, position, SEEK_SET);
    }
    let n: number;
    try { n = fs.writeSync(this.hostFd, src, 0, src.length, offset < 0 ? null : position); } catch (e) { throwHostError(e); }
    return n;
  }

  override lseek(offset: number, whence: number): number {
    if (this.kind === 'stream') throw new SyscallError(ESPIPE);
    // /dev/null and friends: Linux's null_lseek always lands on 0.
    if (this.kind === 'memdev') return 0;
    // Validate as Linux does, then move the host's own offset.
    const target = seekPosition(hostSeek(this.hostFd, 0, SEEK_CUR), this.size(), offset, whence);
    return hostSeek(this.hostFd, target, SEEK_SET);
  }

  override stat(): Stat {
    // The terminal is the sandbox's /dev/console (what ttyname() looks for).
    const console = this.tty ? consoleNodeStat() : null;
    if (console) return console;
    let st: fs.BigIntStats;
    try { st = fs.fstatSync(this.hostFd, { bigint: true }); } catch (e) { throwHostError(e); }
    return statFromHost(st);
  }

  override ioctl(t: Task, cmd: number, arg: number): number {
    if (this.tty) return this.tty.ioctl(t, cmd, arg, this.flags);
    throw new SyscallError(ENOTTY);
  }

  override describe(): string {
    return (this.tty ? consoleNodePath() : null) ?? `host:[${this.hostFd}]`;
  }

  /** Pipes, ttys and sockets have a poll operation; regular files and /dev/null do not
   *  (epoll refuses them with EPERM, as Linux does). */
  override get pollable(): boolean { return this.kind === 'stream'; }
  override get fasync(): boolean { return this.kind === 'stream'; }

  /** The host's own answer for a stream (poll(2) with a zero timeout); a closed host fd
   *  reads as an error, since the application's fd is still open. */
  override readiness(mask: number): number {
    if (this.kind !== 'stream') return DEFAULT_POLLMASK;
    const rev = this.pollFn(this.hostFd, mask | POLLERR | POLLHUP);
    return rev & POLLNVAL ? POLLERR : rev;
  }

  /** No host notifications reach the sentry: re-poll on a backoff timer (backoff_waiter.ts). */
  override addWaiter(mask: number, cb: ReadinessCallback): () => void {
    if (this.kind !== 'stream') return () => {};
    const all = mask | POLLERR | POLLHUP;
    return pollWithBackoff(() => this.readiness(all), all, cb);
  }

  override release(): void {
    if (this.closeOnRelease) {
      try { fs.closeSync(this.hostFd); } catch { /* already gone: nothing to give back */ }
    }
  }

  /** Memory devices never block: no poll, no offset. */
  private syncIO(op: () => number): number {
    try { return op(); } catch (e) { throwHostError(e); }
  }

  private size(): number {
    try { return Number(fs.fstatSync(this.hostFd, { bigint: true }).size); } catch (e) { throwHostError(e); }
  }

  private readStream(dst: Uint8Array): number | Promise<number> {
    if (this.ready(POLLIN)) {
      try {
        return fs.readSync(this.hostFd, dst, 0, dst.length, null);
      } catch (e) {
        if (!isEAGAIN(e)) throwHostError(e);
      }
    }
    if (this.flags & O_NONBLOCK) throw new SyscallError(EAGAIN);
    return this.readWait(dst);
  }

  private async readWait(dst: Uint8Array): Promise<number> {
    try {
      return await threadpoolRead(this.hostFd, dst);
    } catch (e) {
      if (!isEAGAIN(e)) throwHostError(e);
    }
    for (;;) {
      await this.pollUntil(POLLIN);
      try {
        return fs.readSync(this.hostFd, dst, 0, dst.length, null);
      } catch (e) {
        if (!isEAGAIN(e)) throwHostError(e);
      }
    }
  }

  /** Linux blocking writes to a pipe or tty return only once everything is written;
   *  non-blocking ones return what fit, or EAGAIN if nothing did. */
  private writeStream(src: Uint8Array): number | Promise<number> {
    let done = 0;
    while (done < src.length && this.ready(POLLOUT)) {
      try {
        done += fs.writeSync(this.hostFd, src, done, Math.min(src.length - done, STREAM_WRITE_CHUNK), null);
      } catch (e) {
        if (isEAGAIN(e)) break;
        if (done > 0) return done;
        throwHostError(e);
      }
    }
    if (done === src.length) return done;
    if (this.flags & O_NONBLOCK) {
      if (done > 0) return done;
      throw new SyscallError(EAGAIN);
    }
    return this.writeWait(src, done);
  }

  private async writeWait(src: Uint8Array, done: number): Promise<number> {
    while (done < src.length) {
      try {
        done += await threadpoolWrite(this.hostFd, src.subarray(done));
      } catch (e) {
        if (!isEAGAIN(e)) {
          if (done > 0) return done;
          throwHostError(e);
        }
        await this.pollUntil(POLLOUT);
      }
    }
    return done;
  }

  /** Would an I/O call for `events` complete now? Errors and hang-ups count as ready: the
   *  call then reports them. */
  private ready(events: number): boolean {
    const rev = this.pollFn(this.hostFd, events);
    if (rev & POLLNVAL) throw new SyscallError(EBADF);
    return (rev & (events | POLLERR | POLLHUP)) !== 0;
  }

  /** Wait for readiness of a non-blocking host fd without a thread: poll with backoff. */
  private async pollUntil(events: number): Promise<void> {
    let delay = 1;
    while (!this.ready(events)) {
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 50);
    }
  }
}

function threadpoolRead(fd: number, dst: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, dst, 0, dst.length, null, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

function threadpoolWrite(fd: number, src: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.write(fd, src, 0, src.length, null, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

/** A field of /proc/self/fdinfo/<fd> ("pos", "flags"), or undefined. */
function fdinfoField(fd: number, name: string): string | undefined {
  try {
    const text = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1');
    return new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(text)?.[1];
  } catch {
    return undefined;
  }
}

/** The host description's status flags, minus what is not the application's business:
 *  O_CLOEXEC is the sentry's fd flag, and O_NONBLOCK may have been set by Node or our parent
 *  for its own reasons. */
function hostStatusFlags(fd: number): number {
  const flags = fdinfoField(fd, 'flags');
  if (flags === undefined) return O_RDWR | O_LARGEFILE;
  return parseInt(flags, 8) & ~(O_CLOEXEC | O_NONBLOCK);
}

function timespec(ns: bigint): { sec: number; nsec: number } {
  let sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  if (nsec < 0n) { nsec += 1_000_000_000n; sec -= 1n; }
  return { sec: Number(sec), nsec: Number(nsec) };
}

export function statFromHost(st: fs.BigIntStats): Stat {
  return {
    dev: Number(st.dev), ino: Number(st.ino), mode: Number(st.mode), nlink: Number(st.nlink),
    uid: Number(st.uid), gid: Number(st.gid), rdev: Number(st.rdev), size: Number(st.size),
    blksize: Number(st.blksize), blocks: Number(st.blocks),
    atime: timespec(st.atimeNs), mtime: timespec(st.mtimeNs), ctime: timespec(st.ctimeNs),
    btime: st.birthtimeNs > 0n ? timespec(st.birthtimeNs) : undefined,
  };
}

setConsoleOpener((hostFd, flags) => new HostFileDescription(hostFd, { flags, closeOnRelease: false }));
