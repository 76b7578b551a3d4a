// eventfd (Linux fs/eventfd.c): a 64-bit counter behind a file. write adds to it (waiting
// while the sum would reach 2^64-1), read takes it all, or one in semaphore mode (waiting
// while it is zero). Transfers are exactly 8 bytes; a shorter buffer is EINVAL. Readable
// while the counter is non-zero, writable while one more can be added.

import type { Task } from './task';
import { FileDescription, type ReadinessCallback, type Stat } from '../vfs/file_description';
import { EAGAIN, EINVAL, ENXIO } from '../abi/linux/errno';
import { O_NONBLOCK, O_RDWR } from '../abi/linux/fcntl';
import { POLLERR, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../abi/linux/poll';
import { fail } from './syscall_error';
import { block } from './blocking';
import { WaitQueue } from './poll/wait_queue';
import { anonInodeStat, anonOwner, type AnonOwner } from './anon_inode';

export const EFD_SEMAPHORE = 1;
export const EFD_NONBLOCK = O_NONBLOCK;
const ULLONG_MAX = 0xffff_ffff_ffff_ffffn;

export class EventFd extends FileDescription {
  override readonly reopenErrno = ENXIO;
  private count: bigint;
  private readonly queue = new WaitQueue();
  private readonly owner: AnonOwner;

  constructor(t: Task, initval: number, flags: number, private readonly semaphore: boolean) {
    super(O_RDWR | (flags & O_NONBLOCK));
    this.count = BigInt(initval);
    this.owner = anonOwner(t);
  }

  override read(t: Task, dst: Uint8Array, _offset: number): number | Promise<number> {
    if (dst.length < 8) fail(EINVAL);
    if (this.count === 0n) {
      if (this.flags & O_NONBLOCK) fail(EAGAIN);
      return this.wait(t, POLLIN).then(() => this.read(t, dst, -1));
    }
    const take = this.semaphore ? 1n : this.count;
    this.count -= take;
    new DataView(dst.buffer, dst.byteOffset, 8).setBigUint64(0, take, true);
    this.queue.notify(POLLOUT);
    return 8;
  }

  override write(t: Task, src: Uint8Array, _offset: number): number | Promise<number> {
    if (src.length < 8) fail(EINVAL);
    const add = new DataView(src.buffer, src.byteOffset, 8).getBigUint64(0, true);
    if (add === ULLONG_MAX) fail(EINVAL);
    return this.add(t, add);
  }

  private add(t: Task, add: bigint): number | Promise<number> {
    if (ULLONG_MAX - this.count <= add) {
      if (this.flags & O_NONBLOCK) fail(EAGAIN);
      return this.wait(t, POLLOUT).then(() => this.add(t, add));
    }
    this.count += add;
    if (add !== 0n) this.queue.notify(POLLIN);
    return 8;
  }

  /** eventfd_signal (an AIO completion with IOCB_FLAG_RESFD): add 1, never waiting; a
   *  counter at its maximum stays there. */
  kernelSignal(): void {
    if (this.count === ULLONG_MAX) return;
    this.count += 1n;
    this.queue.notify(POLLIN);
  }

  /** Sleep until a change that may allow `events` (interruptible, restartable). */
  private wait(t: Task, events: number): Promise<void> {
    return block<void>(t, (wake) => this.queue.subscribe(events, () => wake()));
  }

  override get pollable(): boolean { return true; }

  override readiness(_mask: number): number {
    let mask = 0;
    if (this.count > 0n) mask |= POLLIN | POLLRDNORM;
    if (this.count === ULLONG_MAX) mask |= POLLERR;
    if (ULLONG_MAX - 1n > this.count) mask |= POLLOUT | POLLWRNORM;
    return mask;
  }

  override addWaiter(mask: number, cb: ReadinessCallback): () => void {
    return this.queue.subscribe(mask, cb);
  }

  override stat(): Stat { return anonInodeStat(this.owner); }
  override describe(): string { return 'anon_inode:[eventfd]'; }
  /** noop_llseek: the position never moves from 0, and every seek says so. */
  override lseek(): number { return 0; }
}
