// Terminal: one pseudo-terminal pair (Linux drivers/tty/pty.c with its tty_struct pair,
// gVisor fsimpl/devpts.Terminal). Bytes written to the master go through the line
// discipline to the replica's readers (and its echo back to the master); bytes written to
// the replica are output-processed and queued for the master. Both ends share the termios,
// the window size and the job-control state.

import { POLLHUP, POLLIN, POLLOUT, POLLPRI, POLLRDNORM, POLLWRNORM } from '../../abi/linux/poll';
import { SIGWINCH } from '../../abi/linux/signal';
import { WINSIZE_SIZE } from '../../abi/linux/termios';
import { WaitQueue } from '../../kernel/poll/wait_queue';
import { JobControlTty, signalProcessGroup } from '../../kernel/job_control_tty';
import type { Kernel } from '../../kernel/kernel';
import type { Task } from '../../kernel/task';
import type { FileDescription } from '../../vfs/file_description';
import { LineDiscipline } from './line_discipline';

const TIOCPKT_DATA = 0, TIOCPKT_FLUSHREAD = 1, TIOCPKT_FLUSHWRITE = 2;
/** What the replica's output may queue for a master that does not read: past it the
 *  replica's writes wait (EAGAIN non-blocking), as pty_write stops at the space left in the
 *  master's buffers (Linux takes 15–22 KB there, by mode). */
export const TO_MASTER_LIMIT = 16384;
/** The same the other way: input the program has not read bounds the master's writes (Linux
 *  takes 22–32 KB, by mode). */
export const TO_REPLICA_LIMIT = 16384;

export class Terminal {
  readonly ldisc = new LineDiscipline();
  readonly job: JobControlTty;
  winsize = new Uint8Array(WINSIZE_SIZE);
  /** TIOCSPTLCK: the replica cannot be opened until unlocked. */
  locked = true;
  masterOpen = true;
  replicaOpens = 0;
  /** A replica was opened once: its last close hangs the master up (EIO on read). */
  replicaEverOpened = false;
  /** Replica output waiting for the master to read it. */
  private readonly toMaster: Uint8Array[] = [];
  private toMasterBytes = 0;
  /** TIOCPKT: each master read starts with a status byte, TIOCPKT_DATA before data, or the
   *  replica side's pending events alone (pktstatus: its queues were flushed). */
  private packet = false;
  private pktStatus = 0;
  /** Readiness of the master (data from the replica) and of the replica (input ready). */
  readonly masterQueue = new WaitQueue();
  readonly replicaQueue = new WaitQueue();

  constructor(readonly kernel: Kernel, readonly index: number,
    reopen: (t: Task, flags: number) => FileDescription) {
    this.job = new JobControlTty(reopen);
    this.job.onHangup = () => this.replicaQueue.notify(POLLIN | POLLOUT | POLLHUP | POLLRDNORM | POLLWRNORM);
  }

  get name(): string { return `/dev/pts/${this.index}`; }

  /** Typed at the master: input processing, echo, signals to the foreground job. The bytes
   *  taken: as many as the replica's input has room for. */
  masterWrite(src: Uint8Array): number {
    const n = Math.min(src.length, this.masterRoom);
    if (n === 0) return 0;
    src = src.subarray(0, n);
    const { echo, signals, flushOutput } = this.ldisc.input(src);
    if (flushOutput) {
      // isig: the replica's input and output both went.
      this.flushToMaster();
      this.replicaFlushed(true, true);
    }
    if (echo.length > 0) this.queueToMaster(echo);
    for (const sig of signals) signalProcessGroup(this.kernel, this.job.pgrp, sig);
    this.replicaQueue.notify(POLLIN | POLLRDNORM);
    return n;
  }

  /** How much more the master may type now. */
  get masterRoom(): number { return Math.max(0, TO_REPLICA_LIMIT - this.ldisc.queued); }

  /** The replica's input was read or flushed: a master waiting to write may go on. */
  replicaInputTaken(): void { this.masterQueue.notify(POLLOUT | POLLWRNORM); }

  /** Written by the program on the replica: the bytes taken, as many as the master's queue
   *  has room for (output processing may add a few past it: a \n becomes \r\n). */
  replicaWrite(src: Uint8Array): number {
    const n = Math.min(src.length, this.replicaRoom);
    if (n > 0) this.queueToMaster(this.ldisc.output(src.subarray(0, n)));
    return n;
  }

  /** How much more replica output the master's queue takes now. */
  get replicaRoom(): number { return Math.max(0, TO_MASTER_LIMIT - this.toMasterBytes); }

  private queueToMaster(b: Uint8Array): void {
    if (b.length === 0 || !this.masterOpen) return;
    this.toMaster.push(b);
    this.toMasterBytes += b.length;
    this.masterQueue.notify(POLLIN | POLLRDNORM);
  }

  get packetMode(): boolean { return this.packet; }

  /** pty_set_pktmode: turning it on forgets older events. */
  setPacketMode(on: boolean): void {
    if (on && !this.packet) this.pktStatus = 0;
    this.packet = on;
  }

  /** The replica side's input (read) or output (write) queue was flushed: in packet mode
   *  the master hears of it (n_tty_packet_mode_flush, pty_flush_buffer). */
  replicaFlushed(read: boolean, write: boolean): void {
    if (!this.packet || (!read && !write)) return;
    this.pktStatus |= (read ? TIOCPKT_FLUSHREAD : 0) | (write ? TIOCPKT_FLUSHWRITE : 0);
    this.masterQueue.notify(POLLIN | POLLPRI | POLLRDNORM);
  }

  /** Bytes for the master, -1 when it must wait; EIO is the caller's once hung up. */
  masterRead(dst: Uint8Array): number {
    if (this.packet) {
      if (this.pktStatus !== 0) {
        dst[0] = this.pktStatus;
        this.pktStatus = 0;
        return 1;
      }
      if (this.toMaster.length === 0) return -1;
      dst[0] = TIOCPKT_DATA;
      return 1 + this.takeToMaster(dst.subarray(1));
    }
    if (this.toMaster.length === 0) return -1;
    return this.takeToMaster(dst);
  }

  private takeToMaster(dst: Uint8Array): number {
    let n = 0;
    while (n < dst.length && this.toMaster.length > 0) {
      const c = this.toMaster[0];
      const take = Math.min(c.length, dst.length - n);
      dst.set(c.subarray(0, take), n);
      n += take;
      if (take === c.length) this.toMaster.shift();
      else this.toMaster[0] = c.subarray(take);
    }
    this.toMasterBytes -= n;
    if (n > 0) this.replicaQueue.notify(POLLOUT | POLLWRNORM);
    return n;
  }

  get masterAvailable(): number { return this.toMasterBytes; }

  /** The replica side has closed for good: the master reads EIO. */
  get hungUp(): boolean { return this.replicaEverOpened && this.replicaOpens === 0; }

  masterReadiness(): number {
    let m = this.masterRoom > 0 ? POLLOUT | POLLWRNORM : 0;
    if (this.toMaster.length > 0) m |= POLLIN | POLLRDNORM;
    if (this.packet && this.pktStatus !== 0) m |= POLLIN | POLLPRI | POLLRDNORM;
    if (this.hungUp) m |= POLLHUP;
    return m;
  }

  replicaReadiness(): number {
    let m = this.replicaRoom > 0 ? POLLOUT | POLLWRNORM : 0;
    if (this.ldisc.readable) m |= POLLIN | POLLRDNORM;
    if (!this.masterOpen) m |= POLLHUP | POLLIN;
    return m;
  }

  /** TIOCSWINSZ: a change tells the foreground job with SIGWINCH. */
  setWinsize(b: Uint8Array): void {
    const same = b.every((v, i) => v === this.winsize[i]);
    this.winsize = b.slice(0, WINSIZE_SIZE);
    if (!same) signalProcessGroup(this.kernel, this.job.pgrp, SIGWINCH);
  }

  flushToMaster(): void {
    this.toMaster.length = 0;
    this.toMasterBytes = 0;
    this.replicaQueue.notify(POLLOUT | POLLWRNORM);
  }
}
