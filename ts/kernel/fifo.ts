// FIFOs (Linux fs/pipe.c fifo_open): a named pipe's buffer belongs to its inode while any
// end is open and is dropped, data and all, when the last one closes. Opening for reading
// waits for a writer and for writing waits for a reader (wait_for_partner: until the other
// side's open counter moves, so a partner that came and went still counts); O_NONBLOCK
// readers open at once, O_NONBLOCK writers without a reader get ENXIO, O_RDWR never waits.
// Reads and writes are the pipe's own (pipe.ts).

import type { Task } from './task';
import type { Inode } from '../vfs/inode';
import type { ReadinessCallback } from '../vfs/file_description';
import { VfsFile } from '../vfs/vfs_file';
import type { VirtualDentry } from '../vfs/virtual_dentry';
import { ENOMEM, ENXIO } from '../abi/linux/errno';
import { O_ACCMODE, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY } from '../abi/linux/fcntl';
import { POLLHUP, POLLIN, POLLOUT, POLLPRI, POLLRDBAND, POLLRDNORM, POLLWRBAND, POLLWRNORM } from '../abi/linux/poll';
import { fail } from './syscall_error';
import { block } from './blocking';
import { Pipe, pipeIoctl, pipeRead, pipeWrite } from './pipe';
import { pipeReadUser, pipeWriteUser } from './pipe_user';
import type { IOVec } from '../syscalls/linux/user_io';

class Fifo {
  pipe: Pipe | null = null;
  /** Opens for reading and for writing so far (pipe->r_counter, w_counter). */
  rCounter = 0;
  wCounter = 0;
  private readonly partnerWaiters = new Set<() => void>();

  openedEnd(): void {
    for (const w of [...this.partnerWaiters]) w();
  }

  /** Until counter() differs from `seen`; interruptible (the open is restarted). */
  waitForPartner(t: Task, counter: () => number, seen: number): Promise<void> {
    return block<void>(t, (wake) => {
      const w = (): void => { if (counter() !== seen) wake(); };
      this.partnerWaiters.add(w);
      return () => { this.partnerWaiters.delete(w); };
    });
  }
}

const fifos = new WeakMap<Inode, Fifo>();

export class FifoFile extends VfsFile {
  private readonly reads: boolean;
  private readonly writes: boolean;
  /** The writer count when this end opened: POLLHUP only once a writer has come since. */
  private readonly wCounterAtOpen: number;
  private released = false;

  constructor(flags: number, vd: VirtualDentry, private readonly fifo: Fifo, readonly pipe: Pipe) {
    super(flags, vd);
    const acc = flags & O_ACCMODE;
    this.reads = acc === O_RDONLY || acc === O_RDWR;
    this.writes = acc === O_WRONLY || acc === O_RDWR;
    if (this.reads) {
      pipe.readers++;
      fifo.rCounter++;
    }
    if (this.writes) {
      pipe.writers++;
      fifo.wCounter++;
    }
    this.wCounterAtOpen = fifo.wCounter;
    if (this.reads || this.writes) pipe.endClosed(); // a new end: waiters look again
    fifo.openedEnd();
  }

  override read(t: Task, dst: Uint8Array, _offset: number): number | Promise<number> {
    return pipeRead(t, this.pipe, this, dst);
  }

  override write(t: Task, src: Uint8Array, _offset: number): number | Promise<number> {
    return pipeWrite(t, this.pipe, this, src);
  }

  override readDirect(t: Task, ranges: readonly IOVec[]): number | Promise<number> {
    return pipeReadUser(t, this.pipe, this, ranges);
  }

  override writeDirect(t: Task, ranges: readonly IOVec[]): number | Promise<number> {
    return pipeWriteUser(t, this.pipe, this, ranges);
  }

  override ioctl(t: Task, cmd: number, arg: number): number { return pipeIoctl(t, this.pipe, cmd, arg); }

  override get pollable(): boolean { return true; }
  override get fasync(): boolean { return true; }

  override readiness(_mask: number): number {
    let mask = 0;
    if (this.reads) {
      mask |= this.pipe.readReadiness();
      // A reader that has seen no writer yet is not hung up (pipe_poll's w_counter test).
      if (this.fifo.wCounter === this.wCounterAtOpen && !this.writes) mask &= ~POLLHUP;
    }
    if (this.writes) mask |= this.pipe.writeReadiness();
    return mask;
  }

  /** The read side's waiters for input bits, the write side's for output bits (both when
   *  the mask names only errors and hang-ups). */
  override addWaiter(mask: number, cb: ReadinessCallback): () => void {
    let r = (mask & (POLLIN | POLLRDNORM | POLLRDBAND | POLLPRI)) !== 0;
    let w = (mask & (POLLOUT | POLLWRNORM | POLLWRBAND)) !== 0;
    if (!r && !w) r = w = true;
    const undo: (() => void)[] = [];
    if (r) undo.push(this.pipe.addReadWaiter(cb));
    if (w) undo.push(this.pipe.addWriteWaiter(cb));
    return () => { for (const u of undo) u(); };
  }

  /** fifo_open's wait for the other side, or null if there is none to make. */
  waitForPartner(t: Task): Promise<void> | null {
    const f = this.fifo;
    if (this.reads && !this.writes && this.pipe.writers === 0 && (this.flags & O_NONBLOCK) === 0) {
      return f.waitForPartner(t, () => f.wCounter, f.wCounter);
    }
    if (this.writes && !this.reads && this.pipe.readers === 0) {
      return f.waitForPartner(t, () => f.rCounter, f.rCounter);
    }
    return null;
  }

  override release(): void {
    if (this.released) return;
    this.released = true;
    if (this.reads) this.pipe.readers--;
    if (this.writes) this.pipe.writers--;
    this.pipe.endClosed();
    if (this.pipe.readers === 0 && this.pipe.writers === 0 && this.fifo.pipe === this.pipe) this.fifo.pipe = null;
  }
}

/** Opens the FIFO at vd; the caller then awaits waitForPartner() before installing it. */
export function openFifo(t: Task | null, inode: Inode, vd: VirtualDentry, flags: number): FifoFile {
  let fifo = fifos.get(inode);
  if (fifo === undefined) {
    fifo = new Fifo();
    fifos.set(inode, fifo);
  }
  // A writer that would wait for a reader it may not wait for: ENXIO, before any count moves.
  const acc = flags & O_ACCMODE;
  const noReader = fifo.pipe === null || fifo.pipe.readers === 0;
  if (acc === O_WRONLY && (flags & O_NONBLOCK) !== 0 && noReader) fail(ENXIO);
  // fifo_open: no pipe within the opener's limit is ENOMEM.
  fifo.pipe ??= t === null ? new Pipe(inode.uid, inode.gid) : Pipe.charged(t, inode.uid, inode.gid, ENOMEM);
  return new FifoFile(flags, vd, fifo, fifo.pipe);
}

