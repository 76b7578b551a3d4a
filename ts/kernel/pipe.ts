// Pipes (Linux fs/pipe.c): a 64 KiB buffer (F_SETPIPE_SZ resizes it) between a read end and a write end, each a
// FileDescription. The buffer is a ring of 16 pages as in Linux (pipe_ring.ts), so that how much fits
// (and when a write of at most PIPE_BUF bytes must wait to go in whole) matches it. Reads
// wait for data (EOF once no writer is left); writing with no reader left is EPIPE plus
// SIGPIPE. O_NONBLOCK turns every wait into EAGAIN. Waits are
// interruptible (ERESTARTSYS), and a write cut short reports what it did write.
// Bytes come from a PipeSource and go to a PipeSink: for read(2)/write(2) those copy straight
// between application memory and the ring's pages (pipe_user.ts), one copy per direction;
// splice, tee and the Uint8Array entry points use plain buffers. A reader blocked in read
// leaves its sink with the pipe, and the write that makes data available fills it before it
// returns (as if the reader had run at once): the writer goes on without waiting for the
// reader's turn, and the reader wakes with its read done. Likewise a writer blocked on a full
// pipe leaves its source, and the reads that make room take the rest of its write in.

import type { Task } from './task';
import { FileDescription, type PseudoInode, type ReadinessCallback, type Stat } from '../vfs/file_description';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../abi/linux/poll';
import { EAGAIN, EBUSY, EFAULT, ENFILE, ENOTTY, EPIPE } from '../abi/linux/errno';
import { FIONREAD } from '../abi/linux/ioctl';
import { O_DIRECT, O_NONBLOCK, O_RDONLY, O_WRONLY } from '../abi/linux/fcntl';
import { S_IFIFO } from '../abi/linux/stat';
import { SIGPIPE } from '../abi/linux/signal';
import { SyscallError, fail } from './syscall_error';
import { block } from './blocking';
import { sendSignalToThread, userSigInfo } from './signals';
import type { IOVec } from '../syscalls/linux/user_io';
import { pipeReadUser, pipeWriteUser } from './pipe_user';
import { PAGE_SIZE, PipeRing } from './pipe_ring';
import { chargeNewPipe, type PipeAccount } from './pipe_limits';
import { STOP_TARGET } from '../mm/copy';

export const PIPE_CAPACITY = 64 << 10;
/** The ring's pages a new pipe has (pipe->max_usage): a full pipe has every one in use. */
const DEFAULT_SLOTS = PIPE_CAPACITY / PAGE_SIZE;
/** st_dev of pipefs (an anonymous device). */
const PIPEFS_DEV = 0xc;

let nextIno = 1;

/** Where a read's bytes go: takes what it can of src (fewer on a fault) and says how many. */
export interface PipeSink { put(src: Uint8Array): number }

/** Where a write's bytes come from: `remaining` bytes in order; fill() copies the next
 *  dst.length of them (fewer on a fault) and says how many. A source in application memory
 *  can also copy its next n bytes straight into a sink in application memory (copyTo: null
 *  if it cannot reach that sink), consuming them only when told (skip). */
export interface PipeSource {
  readonly remaining: number;
  fill(dst: Uint8Array): number;
  copyTo?(sink: PipeSink, n: number): HandOffCopy | null;
  skip?(n: number): void;
}

/** What a copyTo did: bytes copied, and when short whose page refused (mm/copy.ts STOP_*). */
export interface HandOffCopy { done: number; stop: number }

/** A read(2) blocked on an empty pipe: served by the write that brings data (or by EOF). */
interface DirectRead {
  sink: PipeSink;
  want: number;
  /** Ends the wait with the read's result: a count, or the error of a copy that faulted. */
  complete(result: number | SyscallError): void;
}

/** A write(2) blocked on a full pipe: the reads that make room fill it from its source (as if
 *  the writer had run at once), so the reader goes on without waiting for the writer's turn,
 *  and the writer wakes with its write done (or done up to a fault). */
export interface DirectWrite {
  readonly src: PipeSource;
  readonly total: number;
  /** Bytes of the write in the pipe so far (before the wait and while it lasted). */
  done: number;
  /** A copy from the writer's memory came up short: the write ends with what it did. */
  faulted: boolean;
}

/** A plain buffer as a source. */
export function bytesSource(src: Uint8Array): PipeSource {
  let at = 0;
  return {
    get remaining() { return src.length - at; },
    fill(dst: Uint8Array): number {
      const n = Math.min(dst.length, src.length - at);
      dst.set(src.subarray(at, at + n));
      at += n;
      return n;
    },
  };
}

/** A plain buffer as a sink. */
function bytesSink(dst: Uint8Array): PipeSink {
  let at = 0;
  return {
    put(src: Uint8Array): number {
      dst.set(src, at);
      at += src.length;
      return src.length;
    },
  };
}

export class Pipe implements PseudoInode {
  readonly ino = nextIno++;
  private readonly ring = new PipeRing(DEFAULT_SLOTS);
  readers = 0;
  writers = 0;
  private readonly readWaiters = new Set<() => void>();
  private readonly directReads: DirectRead[] = [];
  private readonly directWrites: { w: DirectWrite; wake: () => void }[] = [];
  private readonly writeWaiters = new Set<() => void>();
  /** Creation time (atime and mtime as stat shows them), and the last attribute change. */
  readonly created = Date.now();
  ctime = this.created;
  mode = S_IFIFO | 0o600;
  constructor(public uid: number, public gid: number) {}
  touchCtime(): void { this.ctime = Date.now(); }

  /** Pages in the ring (F_SETPIPE_SZ changes it, kernel/pipe_size.ts). */
  get maxSlots(): number { return this.ring.capacity; }

  get full(): boolean { return this.ring.full; }

  /** The pages this pipe holds on its creator's account (pipe_limits.ts); null for a pipe
   *  the sentry made itself. */
  account: PipeAccount | null = null;

  /** A pipe t makes (alloc_pipe_info): as many pages as t's account allows, else failErrno. */
  static charged(t: Task, uid: number, gid: number, failErrno: number): Pipe {
    const p = new Pipe(uid, gid);
    p.account = chargeNewPipe(t, failErrno);
    if (p.account.slots !== p.ring.capacity) p.ring.resize(p.account.slots);
    return p;
  }

  get hasDirectReads(): boolean { return this.directReads.length > 0; }

  /** pipe_resize_ring: EBUSY if more pages are in use than the new ring has. */
  resize(slots: number): void {
    if (slots < this.ring.inUse) fail(EBUSY);
    const grew = slots > this.ring.capacity;
    this.ring.resize(slots);
    if (grew) {
      wakeAll(this.writeWaiters);
      this.serveDirectWrites();
    }
  }

  /** Bytes waiting to be read. */
  get available(): number { return this.ring.available; }

  /** Bytes a write could put in without waiting (whole free pages; splice fills no more). */
  get room(): number { return this.ring.room; }

  /** Copy up to dst.length unread bytes without consuming them (tee). */
  peek(dst: Uint8Array): number { return this.ring.peek(dst); }

  /** Bytes read, 0 at EOF, -1 if the reader must wait. */
  tryRead(dst: Uint8Array): number {
    return this.readTo(bytesSink(dst), dst.length);
  }

  /** pipe_read's copy: up to `want` unread bytes into sink; 0 at EOF, -1 if the reader must
   *  wait. A page the sink could not take whole stays unread and ends the read (EFAULT if
   *  nothing came before it), as copy_page_to_iter's short count does in Linux. */
  readTo(sink: PipeSink, want: number): number {
    if (this.ring.inUse === 0) return this.writers === 0 ? 0 : -1;
    const wasFull = this.ring.full;
    const n = this.ring.readTo(sink, want);
    const faulted = this.ring.faulted;
    if (n > 0 && (wasFull || this.ring.inUse === 0)) wakeAll(this.writeWaiters);
    if (n > 0) this.serveDirectWrites();
    if (faulted && n === 0) fail(EFAULT);
    return n;
  }

  /** Blocked writers, first come first served, put what fits of their writes into the room a
   *  read made; one that is done (or whose memory faulted) wakes with its result. */
  private serveDirectWrites(): void {
    while (this.directWrites.length > 0 && !this.ring.full) {
      const { w, wake } = this.directWrites[0];
      const n = this.ring.push(w.src);
      if (n > 0) {
        w.done += n;
        wakeAll(this.readWaiters);
      }
      if (this.ring.faulted) w.faulted = true;
      // Not done and not faulted: the ring is full again and the loop ends.
      if (w.faulted || w.done === w.total) wake(); // its undo takes it off the list
    }
  }

  /** Wait, as a writer of w.src, until reads have taken the rest of the write in (or it
   *  faulted, or an end closed: the caller's loop then sees why). */
  waitAndWrite(t: Task, w: DirectWrite): Promise<void> {
    return block<void>(t, (wake) => {
      const r = { w, wake: (): void => wake() };
      this.directWrites.push(r);
      return () => {
        const i = this.directWrites.indexOf(r);
        if (i >= 0) this.directWrites.splice(i, 1);
      };
    });
  }

  /** pipe_write's first step: the tail of a write that is not a whole number of pages goes
   *  into the last page if it fits there. Returns the bytes taken (0 or that tail); a fault
   *  while copying it is EFAULT with nothing written. */
  merge(src: PipeSource): number {
    const n = this.ring.merge(src, src.remaining & (PAGE_SIZE - 1));
    if (n < 0) fail(EFAULT);
    if (n > 0) wakeAll(this.readWaiters);
    return n;
  }

  /** Fill the free slots from src, a page each. Returns the bytes put in, or -1 if a fault
   *  stopped it before a whole page went in (pages that did go in stay). */
  pushPages(src: PipeSource): number {
    const n = this.ring.push(src);
    if (n > 0) wakeAll(this.readWaiters);
    return n === 0 && this.ring.faulted ? -1 : n;
  }

  /** Whether the last pushPages stopped at a fault. */
  get pushFaulted(): boolean { return this.ring.faulted; }

  waitReadable(t: Task): Promise<void> { return this.waitOn(t, this.readWaiters); }
  waitWritable(t: Task): Promise<void> { return this.waitOn(t, this.writeWaiters); }

  /** Wait, as a reader of `want` bytes into sink, until a write (or EOF) completes the read. */
  waitAndRead(t: Task, sink: PipeSink, want: number): Promise<number | SyscallError> {
    return block<number | SyscallError>(t, (wake) => {
      const r: DirectRead = { sink, want, complete: wake };
      this.directReads.push(r);
      return () => {
        const i = this.directReads.indexOf(r);
        if (i >= 0) this.directReads.splice(i, 1);
      };
    });
  }

  /** pipe_write into an empty pipe whose first blocked reader wants the whole write: the bytes
   *  go from the source straight into that reader's buffer (one copy, not two through the
   *  ring) and the reader's read completes, as if the write had filled the ring's pages and
   *  the reader had run at once. Returns the bytes this write has done (the rest, if any,
   *  takes the ring) and whether the write ends there, or null if the hand-off does not
   *  apply. A fault keeps only the whole
   *  pages before it, as the ring would: one in the reader's buffer ends its read there
   *  (EFAULT if it is the first) and the rest of the write goes on through the ring; one in
   *  the writer's ends the write (EFAULT if it is the first) and the reader gets the pages
   *  before it, or goes on waiting. The reader's buffer past the whole pages it is given may
   *  hold a few of the bytes that were not (Linux would have left it alone). */
  handOff(src: PipeSource, total: number): { done: number; ended: boolean } | null {
    const r = this.directReads[0];
    if (r === undefined || this.ring.inUse !== 0 || r.want < total || total === 0 || src.copyTo === undefined) return null;
    const c = src.copyTo(r.sink, total);
    if (c === null) return null;
    const kept = c.done === total ? total : c.done - (c.done % PAGE_SIZE);
    src.skip?.(kept);
    if (kept > 0) {
      wakeAll(this.readWaiters);
      r.complete(kept);
    } else if (c.stop === STOP_TARGET) {
      r.complete(new SyscallError(EFAULT));
    }
    const ended = kept < total && c.stop !== STOP_TARGET;
    if (ended && kept === 0) fail(EFAULT);
    return { done: kept, ended };
  }

  /** Blocked readers take what is there, first come first served, while there is data (or
   *  EOF, which ends each with 0). Called once a write has put in what it will (pipe_write
   *  wakes readers then, not page by page: a reader gets the whole write). */
  serveDirectReads(): void {
    while (this.directReads.length > 0 && (this.ring.inUse > 0 || this.writers === 0)) {
      const r = this.directReads[0];
      let result: number | SyscallError;
      try {
        result = this.readTo(r.sink, r.want);
      } catch (e) {
        if (!(e instanceof SyscallError)) throw e;
        result = e; // that reader's EFAULT; nothing was consumed
      }
      r.complete(result); // its undo takes it off the list
    }
  }

  /** pipe_poll for the read end: data to read, or hang-up once no writer is left. */
  readReadiness(): number {
    let mask = this.ring.inUse > 0 ? POLLIN | POLLRDNORM : 0;
    if (this.writers === 0) mask |= POLLHUP;
    return mask;
  }

  /** pipe_poll for the write end: a free page in the ring, or an error once no reader is left. */
  writeReadiness(): number {
    let mask = this.full ? 0 : POLLOUT | POLLWRNORM;
    if (this.readers === 0) mask |= POLLERR;
    return mask;
  }

  /** Poll waiters share the sets blocked readers and writers sleep on: every change that
   *  wakes those (data in, room made, an end closed) is one poll must see. They stay
   *  registered across wake-ups until they unsubscribe. */
  addReadWaiter(cb: ReadinessCallback): () => void {
    const w = (): void => cb();
    this.readWaiters.add(w);
    return () => { this.readWaiters.delete(w); };
  }

  addWriteWaiter(cb: ReadinessCallback): () => void {
    const w = (): void => cb();
    this.writeWaiters.add(w);
    return () => { this.writeWaiters.delete(w); };
  }

  private waitOn(t: Task, set: Set<() => void>): Promise<void> {
    return block<void>(t, (wake) => {
      const w = (): void => wake();
      set.add(w);
      return () => { set.delete(w); };
    });
  }

  /** An end closed: the other side may stop waiting (EOF or EPIPE). */
  endClosed(): void {
    // free_pipe_info: the last end gone gives its pages back to the creator's account.
    if (this.readers === 0 && this.writers === 0) this.account?.release();
    wakeAll(this.readWaiters);
    wakeAll(this.writeWaiters);
    this.serveDirectReads();
    if (this.readers === 0) {
      for (const { wake } of [...this.directWrites]) wake();
    }
  }
}

function wakeAll(set: Set<() => void>): void {
  // A waker may unsubscribe (its wait ended): iterate over a copy, made only when needed.
  if (set.size === 0) return;
  if (set.size === 1) {
    (set.values().next().value as () => void)();
    return;
  }
  for (const w of [...set]) w();
}

function msTimespec(ms: number): { sec: number; nsec: number } {
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 };
}

function pipeStat(p: Pipe): Stat {
  const ts = msTimespec(p.created);
  return {
    dev: PIPEFS_DEV, ino: p.ino, mode: p.mode, nlink: 1, uid: p.uid, gid: p.gid, rdev: 0,
    size: 0, blksize: 4096, blocks: 0, atime: ts, mtime: ts, ctime: msTimespec(p.ctime),
  };
}

export class PipeReadEnd extends FileDescription {
  override readonly pseudoInode: PseudoInode;
  constructor(readonly pipe: Pipe, flags: number) {
    super(O_RDONLY | (flags & (O_NONBLOCK | O_DIRECT)));
    this.pseudoInode = pipe;
    pipe.readers++;
  }

  override read(t: Task, dst: Uint8Array, _offset: number): number | Promise<number> {
    return pipeRead(t, this.pipe, this, dst);
  }

  override readDirect(t: Task, ranges: readonly IOVec[]): number | Promise<number> {
    return pipeReadUser(t, this.pipe, this, ranges);
  }

  override stat(): Stat { return pipeStat(this.pipe); }
  override ioctl(t: Task, cmd: number, arg: number): number { return pipeIoctl(t, this.pipe, cmd, arg); }
  override describe(): string { return `pipe:[${this.pipe.ino}]`; }
  override get pollable(): boolean { return true; }
  override get fasync(): boolean { return true; }
  override readiness(_mask: number): number { return this.pipe.readReadiness(); }
  override addWaiter(_mask: number, cb: ReadinessCallback): () => void { return this.pipe.addReadWaiter(cb); }

  override release(): void {
    this.pipe.readers--;
    this.pipe.endClosed();
  }
}

export class PipeWriteEnd extends FileDescription {
  override readonly pseudoInode: PseudoInode;
  constructor(readonly pipe: Pipe, flags: number) {
    super(O_WRONLY | (flags & (O_NONBLOCK | O_DIRECT)));
    this.pseudoInode = pipe;
    pipe.writers++;
  }

  override write(t: Task, src: Uint8Array, _offset: number): number | Promise<number> {
    return pipeWrite(t, this.pipe, this, src);
  }

  override writeDirect(t: Task, ranges: readonly IOVec[]): number | Promise<number> {
    return pipeWriteUser(t, this.pipe, this, ranges);
  }

  override stat(): Stat { return pipeStat(this.pipe); }
  override ioctl(t: Task, cmd: number, arg: number): number { return pipeIoctl(t, this.pipe, cmd, arg); }
  override describe(): string { return `pipe:[${this.pipe.ino}]`; }
  override get pollable(): boolean { return true; }
  override get fasync(): boolean { return true; }
  override readiness(_mask: number): number { return this.pipe.writeReadiness(); }
  override addWaiter(_mask: number, cb: ReadinessCallback): () => void { return this.pipe.addWriteWaiter(cb); }

  override release(): void {
    this.pipe.writers--;
    this.pipe.endClosed();
  }
}

/** pipe_ioctl: FIONREAD, from either end, counts the bytes queued; nothing else is known
 *  (the watch-queue requests need O_NOTIFICATION_PIPE, which pipe2 refuses here). */
export function pipeIoctl(t: Task, p: Pipe, cmd: number, arg: number): number {
  if (cmd !== FIONREAD) fail(ENOTTY);
  t.mm.writeI32(arg, p.available);
  return 0;
}

/** Whose O_NONBLOCK a pipe transfer follows: the description's, or splice's flag. */
export interface PipeCaller { readonly flags: number }

/** pipe_read for a description `f` of the pipe (its O_NONBLOCK counts at each wait). */
export function pipeRead(t: Task, p: Pipe, f: PipeCaller, dst: Uint8Array): number | Promise<number> {
  return pipeReadTo(t, p, f, bytesSink(dst), dst.length);
}

/** pipe_read into any sink, up to `want` bytes. */
export function pipeReadTo(t: Task, p: Pipe, f: PipeCaller, sink: PipeSink, want: number): number | Promise<number> {
  const n = p.readTo(sink, want);
  if (n >= 0) return n;
  if (f.flags & O_NONBLOCK) fail(EAGAIN);
  return p.waitAndRead(t, sink, want).then((r) => {
    if (r instanceof SyscallError) throw r;
    return r;
  });
}

/** pipe_write for a description `f` of the pipe. */
export function pipeWrite(t: Task, p: Pipe, f: PipeCaller, src: Uint8Array): number | Promise<number> {
  return pipeWriteFrom(t, p, f, bytesSource(src));
}

/** pipe_write of everything a source holds. */
export function pipeWriteFrom(t: Task, p: Pipe, f: PipeCaller, src: PipeSource): number | Promise<number> {
  const total = src.remaining;
  if (p.hasDirectReads) {
    const h = p.handOff(src, total);
    if (h !== null) return h.ended ? h.done : writeFrom(t, p, f, src, total, h.done);
  }
  const merged = p.readers > 0 ? p.merge(src) : 0;
  return writeFrom(t, p, f, src, total, merged);
}

/** pipe_write's loop: whole pages into free slots, waiting while the ring is full. */
function writeFrom(t: Task, p: Pipe, f: PipeCaller, src: PipeSource, total: number, done: number): number | Promise<number> {
  try {
    return writeLoop(t, p, f, src, total, done);
  } finally {
    // Whatever this write put in (all of it, a part before an error, or a full ring it now
    // waits on) goes to the readers blocked meanwhile.
    p.serveDirectReads();
  }
}

function writeLoop(t: Task, p: Pipe, f: PipeCaller, src: PipeSource, total: number, done: number): number | Promise<number> {
  for (;;) {
    if (done === total) return done;
    if (p.readers === 0) {
      sendSignalToThread(t, userSigInfo(t, SIGPIPE));
      if (done > 0) return done;
      fail(EPIPE);
    }
    if (!p.full) {
      const n = p.pushPages(src);
      if (n < 0) {
        // Only whole pages copied before a fault are written (pipe_write).
        if (done > 0) return done;
        fail(EFAULT);
      }
      done += n;
      if (p.pushFaulted) return done;
      continue;
    }
    // Full: blocked readers may make room before this write has to wait.
    if (p.hasDirectReads) {
      p.serveDirectReads();
      if (!p.full) continue;
    }
    if (f.flags & O_NONBLOCK) {
      if (done > 0) return done;
      fail(EAGAIN);
    }
    const w: DirectWrite = { src, total, done, faulted: false };
    return p.waitAndWrite(t, w).then(
      () => {
        if (!w.faulted) return writeFrom(t, p, f, src, total, w.done);
        // Only whole pages copied before a fault are written (pipe_write).
        if (w.done > 0) return w.done;
        fail(EFAULT);
      },
      (e: unknown) => {
        if (w.done > 0 && e instanceof SyscallError) return w.done;
        throw e;
      },
    );
  }
}

/** pipe2's two ends, each holding its creator's reference. */
export function newPipe(t: Task, flags: number): { r: PipeReadEnd; w: PipeWriteEnd } {
  // create_pipe_files: no pipe within the user's limit is ENFILE.
  const p = Pipe.charged(t, t.creds.euid, t.creds.egid, ENFILE);
  return { r: new PipeReadEnd(p, flags), w: new PipeWriteEnd(p, flags) };
}
