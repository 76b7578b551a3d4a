// The two ends of a pseudo-terminal as open files (Linux pty_unix98_ops for the master at
// /dev/ptmx, the replica at /dev/pts/N). Reads wait for data; the replica's reads and
// writes pass the job-control checks first; the termios, window-size and job-control
// ioctls act on the shared Terminal from either end, as Linux's tty_mode_ioctl does through
// tty->link.

import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { block } from '../../kernel/blocking';
import type { WaitQueue } from '../../kernel/poll/wait_queue';
import {
  jobControlIoctl, signalProcessGroup, ttyCheckChange, ttyCheckRead, ttyCheckWrite,
} from '../../kernel/job_control_tty';
import { EAGAIN, EINVAL, EIO, ENOTTY } from '../../abi/linux/errno';
import { O_ACCMODE, O_NONBLOCK, O_WRONLY } from '../../abi/linux/fcntl';
import {
  FIONREAD, TCFLSH, TCGETS, TCGETS2, TCSBRK, TCSETS, TCSETS2, TCSETSF, TCSETSF2, TCSETSW, TCSETSW2, TCXONC, TIOCGPGRP, TIOCGWINSZ,
  TIOCGPKT, TIOCNOTTY, TIOCOUTQ, TIOCPKT, TIOCSIG, TIOCSPGRP, TIOCSWINSZ,
} from '../../abi/linux/ioctl';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../../abi/linux/poll';
import { TERMIOS_SIZE, VMIN, WINSIZE_SIZE } from '../../abi/linux/termios';
import type { ReadinessCallback } from '../../vfs/file_description';
import { VfsFile } from '../../vfs/vfs_file';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import type { Terminal } from './terminal';
import { TERMIOS2_SIZE, termios2Of } from './termios2';

const TCIFLUSH = 0, TCOFLUSH = 1, TCIOFLUSH = 2;

function waitOn(t: Task, q: WaitQueue, mask: number): Promise<void> {
  return block<void>(t, (wake) => q.subscribe(mask, () => wake()));
}

/** n_tty_write: a blocking write waits for room until all is written (a signal ends it
 *  with what was written, if anything; so does the other end going, EIO if nothing was);
 *  a non-blocking one takes what fits, EAGAIN if nothing does. */
function writeAll(t: Task, nonblock: boolean, src: Uint8Array, put: (b: Uint8Array) => number,
  q: WaitQueue, gone: () => boolean, done = 0): number | Promise<number> {
  done += put(src.subarray(done));
  if (done === src.length || (done > 0 && nonblock)) return done;
  if (nonblock) throw new SyscallError(EAGAIN);
  return waitOn(t, q, POLLOUT | POLLHUP).then(
    () => {
      if (!gone()) return writeAll(t, nonblock, src, put, q, gone, done);
      if (done > 0) return done;
      throw new SyscallError(EIO);
    },
    (e: unknown) => {
      if (done === 0) throw e;
      // The signal interrupts nothing then: the write returns what it wrote.
      t.syscallRestart = 0;
      return done;
    });
}

/** tty_mode_ioctl and friends, shared by both ends; null if cmd is not one of them. */
function ttyIoctl(t: Task, term: Terminal, cmd: number, arg: number, replica: boolean): number | null {
  switch (cmd) {
    case TCGETS:
      t.mm.copyOut(arg, term.ldisc.termios);
      return 0;
    case TCGETS2:
      t.mm.copyOut(arg, termios2Of(term.ldisc.termios));
      return 0;
    case TCSETS: case TCSETSW: case TCSETSF:
    case TCSETS2: case TCSETSW2: case TCSETSF2: {
      if (replica) ttyCheckChange(t, term.job);
      // termios2's speeds follow c_cflag here (a pty has no line speed): only the termios part counts.
      const two = cmd === TCSETS2 || cmd === TCSETSW2 || cmd === TCSETSF2;
      const b = t.mm.copyIn(arg, two ? TERMIOS2_SIZE : TERMIOS_SIZE).subarray(0, TERMIOS_SIZE);
      if (cmd === TCSETSF || cmd === TCSETSF2) {
        term.ldisc.flushInput();
        term.replicaInputTaken();
        term.replicaFlushed(true, false);
      }
      term.ldisc.setTermios(b);
      term.replicaQueue.notify(0x1 | 0x40);
      return 0;
    }
    case TIOCGWINSZ:
      t.mm.copyOut(arg, term.winsize);
      return 0;
    case TIOCSWINSZ:
      term.setWinsize(t.mm.copyIn(arg, WINSIZE_SIZE));
      return 0;
    case FIONREAD:
      t.mm.writeI32(arg, replica ? term.ldisc.available : term.masterAvailable);
      return 0;
    case TIOCOUTQ:
      t.mm.writeI32(arg, replica ? term.masterAvailable : 0);
      return 0;
    case TCFLSH: {
      if (arg > TCIOFLUSH) throw new SyscallError(EINVAL);
      if (replica) ttyCheckChange(t, term.job);
      // The master's input queue is the replica's output (pty_flush_buffer).
      const input = arg === TCIFLUSH || arg === TCIOFLUSH, output = arg === TCOFLUSH || arg === TCIOFLUSH;
      if (replica ? input : output) {
        term.ldisc.flushInput();
        term.replicaInputTaken();
      }
      if (replica ? output : input) term.flushToMaster();
      // Only the replica's own flushes are events for a packet-mode master.
      if (replica) term.replicaFlushed(input, output);
      return 0;
    }
    case TCSBRK: case TCXONC:
      return 0;
    default:
      return null;
  }
}

export class PtyMasterFile extends VfsFile {
  private released = false;

  constructor(flags: number, vd: VirtualDentry, readonly term: Terminal,
    private readonly extra: (t: Task, cmd: number, arg: number) => number | null) {
    super(flags, vd);
  }

  override read(t: Task, dst: Uint8Array, _offset: number): number | Promise<number> {
    if (dst.length === 0) return 0;
    const n = this.term.masterRead(dst);
    if (n >= 0) return n;
    if (this.term.hungUp) throw new SyscallError(EIO);
    if (this.flags & O_NONBLOCK) throw new SyscallError(EAGAIN);
    return waitOn(t, this.term.masterQueue, 0x1).then(() => this.read(t, dst, -1));
  }

  override write(t: Task, src: Uint8Array, _offset: number): number | Promise<number> {
    return writeAll(t, (this.flags & O_NONBLOCK) !== 0, src, (b) => this.term.masterWrite(b),
      this.term.masterQueue, () => false);
  }

  override ioctl(t: Task, cmd: number, arg: number): number {
    const r = ttyIoctl(t, this.term, cmd, arg, false) ?? this.extra(t, cmd, arg);
    if (r !== null) return r;
    switch (cmd) {
      case TIOCGPGRP:
        // The master reads the replica's foreground group whoever asks (tiocgpgrp).
        t.mm.writeI32(arg, this.term.job.pgrp);
        return 0;
      case TIOCSIG: {
        if (arg < 1 || arg > 64) throw new SyscallError(EINVAL);
        signalProcessGroup(t.kernel, this.term.job.pgrp, arg);
        return 0;
      }
      case TIOCPKT:
        this.term.setPacketMode(t.mm.readI32(arg) !== 0);
        return 0;
      case TIOCGPKT:
        t.mm.writeI32(arg, this.term.packetMode ? 1 : 0);
        return 0;
      case TIOCNOTTY:
        // The master's tty_struct is not the replica's, the controlling terminal (tiocnotty).
        throw new SyscallError(ENOTTY);
      default: {
        const j = jobControlIoctl(t, this.term.job, cmd, arg, (this.flags & O_ACCMODE) !== O_WRONLY);
        if (j !== null) return j;
        throw new SyscallError(ENOTTY);
      }
    }
  }

  override get pollable(): boolean { return true; }
  override get fasync(): boolean { return true; }
  /** The master's own tty has no foreground group: the caller becomes the owner. */
  override fasyncDefaultOwner(): number { return 0; }
  override readiness(_mask: number): number { return this.term.masterReadiness(); }
  override addWaiter(mask: number, cb: ReadinessCallback): () => void { return this.term.masterQueue.subscribe(mask, cb); }

  override release(): void {
    if (this.released) return;
    this.released = true;
    onMasterClosed(this.term);
  }
}

/** Set by ptmx.ts: what the last close of a master does (hang-up, free the index). */
let onMasterClosed: (term: Terminal) => void = () => {};
export function setMasterCloseHook(f: (term: Terminal) => void): void { onMasterClosed = f; }

export class PtyReplicaFile extends VfsFile {
  private released = false;
  /** The terminal's hang-up count at open: a later vhangup hangs this file up. */
  private readonly hangups: number;

  constructor(flags: number, vd: VirtualDentry, readonly term: Terminal) {
    super(flags, vd);
    term.replicaOpens++;
    term.replicaEverOpened = true;
    this.hangups = term.job.hangups;
  }

  /** tty_hung_up_p: vhangup swapped this file's operations for hung_up_tty_fops. */
  private get hungUp(): boolean { return this.hangups !== this.term.job.hangups; }

  override read(t: Task, dst: Uint8Array, _offset: number): number | Promise<number> {
    if (this.hungUp) return 0;
    ttyCheckRead(t, this.term.job);
    const ld = this.term.ldisc;
    if (ld.readable) {
      const n = ld.read(dst);
      this.term.replicaInputTaken();
      return n;
    }
    // Hung up: end of file. Raw mode with VMIN 0: nothing is an answer too.
    if (!this.term.masterOpen || (!ld.canonical && ld.cc(VMIN) === 0)) return 0;
    if (this.flags & O_NONBLOCK) throw new SyscallError(EAGAIN);
    return waitOn(t, this.term.replicaQueue, 0x1).then(() => this.read(t, dst, -1));
  }

  override write(t: Task, src: Uint8Array, _offset: number): number | Promise<number> {
    if (!this.term.masterOpen || this.hungUp) throw new SyscallError(EIO);
    ttyCheckWrite(t, this.term.job, () => this.term.ldisc.tostop);
    return writeAll(t, (this.flags & O_NONBLOCK) !== 0, src, (b) => this.term.replicaWrite(b),
      this.term.replicaQueue, () => !this.term.masterOpen || this.hungUp);
  }

  override ioctl(t: Task, cmd: number, arg: number): number {
    if (this.hungUp) throw new SyscallError(cmd === TIOCSPGRP ? ENOTTY : EIO);
    const r = ttyIoctl(t, this.term, cmd, arg, true) ??
      jobControlIoctl(t, this.term.job, cmd, arg, (this.flags & O_ACCMODE) !== O_WRONLY);
    if (r === null) throw new SyscallError(ENOTTY);
    return r;
  }

  override get pollable(): boolean { return true; }
  override get fasync(): boolean { return true; }
  override fasyncDefaultOwner(): number { return this.term.job.pgrp !== 0 ? -this.term.job.pgrp : 0; }
  override readiness(_mask: number): number {
    // hung_up_tty_poll
    if (this.hungUp) return POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDNORM | POLLWRNORM;
    return this.term.replicaReadiness();
  }
  override addWaiter(mask: number, cb: ReadinessCallback): () => void { return this.term.replicaQueue.subscribe(mask, cb); }

  override release(): void {
    if (this.released) return;
    this.released = true;
    this.term.replicaOpens--;
    this.term.masterQueue.notify(0x10);
  }
}
