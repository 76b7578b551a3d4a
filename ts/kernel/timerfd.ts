// timerfd (Linux fs/timerfd.c): a timer behind a file. Each expiry adds to a tick count that
// read takes whole (8 bytes; EAGAIN or a wait while it is zero; EINVAL for a shorter
// buffer); the file is readable while the count is non-zero. A periodic timer is not rearmed
// by its expiry but by the next read or gettime, which count the periods missed meanwhile,
// as Linux does so that a tiny period costs nothing while nobody reads.
//
// TFD_TIMER_CANCEL_ON_SET is accepted; reads would fail with ECANCELED once CLOCK_REALTIME is
// set, but the sandbox's clock cannot be set (clock_settime/settimeofday), so that never
// happens.

import type { Task } from './task';
import { FileDescription, type ReadinessCallback, type Stat } from '../vfs/file_description';
import { EAGAIN, EINVAL, ENXIO } from '../abi/linux/errno';
import { O_NONBLOCK, O_RDWR } from '../abi/linux/fcntl';
import { POLLIN, POLLRDNORM } from '../abi/linux/poll';
import { fail } from './syscall_error';
import { block } from './blocking';
import { WaitQueue } from './poll/wait_queue';
import { anonInodeStat, anonOwner, type AnonOwner } from './anon_inode';
import { KTimer } from './timers/ktimer';
import type { TimerClock } from './timers/clock';
import type { TimerSpec } from './timers/posix_timer';

export class TimerFd extends FileDescription {
  override readonly reopenErrno = ENXIO;
  readonly timer: KTimer;
  private ticks = 0n;
  private readonly queue = new WaitQueue();
  private readonly owner: AnonOwner;

  constructor(t: Task, readonly clockId: number, clock: TimerClock, flags: number) {
    super(O_RDWR | (flags & O_NONBLOCK));
    this.owner = anonOwner(t);
    this.timer = new KTimer(clock, (n) => {
      this.ticks += n;
      this.queue.notify(POLLIN);
      return false;
    });
  }

  /** Count the periods of a held periodic timer and run it again. */
  private catchUp(): void {
    if (this.timer.isHeld) this.ticks += this.timer.rearm();
  }

  /** timerfd_gettime. */
  get(): TimerSpec {
    this.timer.check();
    this.catchUp();
    const rem = this.timer.remaining();
    return { value: rem > 0n ? rem : 0n, interval: this.timer.interval };
  }

  /** timerfd_settime with an absolute expiry on the clock (0 disarms); returns the old
   *  setting. The count starts again from zero. */
  set(expiry: bigint, interval: bigint): TimerSpec {
    this.timer.check();
    if (this.timer.isHeld) this.timer.forward();
    const rem = this.timer.remaining();
    const old = { value: rem > 0n ? rem : 0n, interval: this.timer.interval };
    this.ticks = 0n;
    this.timer.set(expiry, interval);
    return old;
  }

  override read(t: Task, dst: Uint8Array, _offset: number): number | Promise<number> {
    if (dst.length < 8) fail(EINVAL);
    this.timer.check();
    if (this.ticks === 0n) {
      if (this.flags & O_NONBLOCK) fail(EAGAIN);
      return block<void>(t, (wake) => this.queue.subscribe(POLLIN, () => wake()))
        .then(() => this.read(t, dst, -1));
    }
    this.catchUp();
    const n = this.ticks;
    this.ticks = 0n;
    new DataView(dst.buffer, dst.byteOffset, 8).setBigUint64(0, n, true);
    return 8;
  }

  override get pollable(): boolean { return true; }

  override readiness(_mask: number): number {
    this.timer.check();
    return this.ticks > 0n ? POLLIN | POLLRDNORM : 0;
  }

  override addWaiter(mask: number, cb: ReadinessCallback): () => void {
    return this.queue.subscribe(mask, cb);
  }

  override release(): void { this.timer.destroy(); }
  override stat(): Stat { return anonInodeStat(this.owner); }
  override describe(): string { return 'anon_inode:[timerfd]'; }
  /** noop_llseek: the position never moves from 0, and every seek says so. */
  override lseek(): number { return 0; }
}
