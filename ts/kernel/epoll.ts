// epoll (Linux fs/eventpoll.c): an instance is itself a file holding a set of watched
// (file, fd) pairs. Each item subscribes to its file's readiness changes; a change puts the
// item on the ready list, and epoll_wait reads the list, asking each file for its readiness
// afresh (wake-ups may be spurious). Level-triggered items go back on the list after being
// reported, so they are reported again while still ready; EPOLLET items wait for the next
// change; EPOLLONESHOT items are disabled until EPOLL_CTL_MOD. Items are not counted as
// references: one goes when its file's last reference does, as Linux's eventpoll_release.

import type { Task } from './task';
import { FileDescription, type ReadinessCallback, type Stat } from '../vfs/file_description';
import { EEXIST, ELOOP, ENOENT, ENXIO } from '../abi/linux/errno';
import { O_RDWR } from '../abi/linux/fcntl';
import { POLLERR, POLLHUP, POLLIN, POLLRDNORM } from '../abi/linux/poll';
import { EPOLLET, EPOLLONESHOT, EP_PRIVATE_BITS } from '../abi/linux/epoll';
import { fail } from './syscall_error';
import { WaitQueue } from './poll/wait_queue';
import { anonInodeStat, anonOwner, type AnonOwner } from './anon_inode';

export interface EpollEvent { events: number; data: bigint }

/** One watched (file, fd) pair (Linux struct epitem). */
class EpollItem {
  /** Requested events, POLLERR|POLLHUP and the EP_PRIVATE_BITS flags included. */
  events = 0;
  data = 0n;
  unsubscribe: () => void = () => {};
  unrelease: () => void = () => {};
  constructor(readonly fd: number, readonly file: FileDescription) {}

  /** Readiness bits the item would report now (0 while a one-shot item is disabled). */
  poll(): number {
    const want = this.events & ~EP_PRIVATE_BITS;
    return want === 0 ? 0 : this.file.readiness(want) & want;
  }
}

export class EpollInstance extends FileDescription {
  override readonly reopenErrno = ENXIO;
  private readonly items = new Map<FileDescription, Map<number, EpollItem>>();
  /** Items that may be ready, in the order they became so (Linux rdllist). */
  private ready = new Set<EpollItem>();
  /** epoll_wait sleepers, and pollers of this instance itself (nested epoll, poll). */
  private readonly queue = new WaitQueue();
  private readonly owner: AnonOwner;

  /** ep_find_tfd (kcmp KCMP_EPOLL_TFD): the file of the toff-th item registered under fd
   *  tfd (several files may have been added under one number), or null. */
  targetFile(tfd: number, toff: number): FileDescription | null {
    let n = 0;
    for (const byFd of this.items.values()) {
      const item = byFd.get(tfd);
      if (item !== undefined && n++ === toff) return item.file;
    }
    return null;
  }

  /** O_CLOEXEC, epoll_create1's one flag, belongs to the fd, not here. */
  constructor(t: Task) {
    super(O_RDWR);
    this.owner = anonOwner(t);
  }

  add(fd: number, file: FileDescription, ev: EpollEvent): void {
    if (this.find(file, fd)) fail(EEXIST);
    if (file instanceof EpollInstance && file.reaches(this)) fail(ELOOP);
    const item = new EpollItem(fd, file);
    let byFd = this.items.get(file);
    if (!byFd) this.items.set(file, byFd = new Map());
    byFd.set(fd, item);
    item.unrelease = file.onRelease(() => this.forget(item));
    this.arm(item, ev);
  }

  modify(fd: number, file: FileDescription, ev: EpollEvent): void {
    const item = this.find(file, fd) ?? fail(ENOENT);
    item.unsubscribe();
    this.arm(item, ev);
  }

  remove(fd: number, file: FileDescription): void {
    const item = this.find(file, fd) ?? fail(ENOENT);
    item.unrelease();
    this.forget(item);
  }

  /** Whether an item of this instance has the flag (EPOLLEXCLUSIVE checks on MOD). */
  itemEvents(fd: number, file: FileDescription): number | undefined {
    return this.find(file, fd)?.events;
  }

  /** Take up to max ready events (ep_send_events). */
  collect(max: number): EpollEvent[] {
    const out: EpollEvent[] = [];
    const scan = [...this.ready];
    this.ready.clear();
    const again: EpollItem[] = [];
    let i = 0;
    for (; i < scan.length && out.length < max; i++) {
      const item = scan[i];
      const revents = item.poll();
      if (revents === 0) continue;
      out.push({ events: revents >>> 0, data: item.data });
      if (item.events & EPOLLONESHOT) item.events &= EP_PRIVATE_BITS;
      else if (!(item.events & EPOLLET)) again.push(item);
    }
    // Unscanned items keep their place ahead of the level-triggered ones put back.
    for (; i < scan.length; i++) this.ready.add(scan[i]);
    for (const item of again) this.ready.add(item);
    return out;
  }

  /** Sleep hook for epoll_wait: cb on any item becoming ready. */
  subscribeReady(cb: ReadinessCallback): () => void {
    return this.queue.subscribe(POLLIN, cb);
  }

  override get pollable(): boolean { return true; }

  /** Readable while some item is ready (ep_eventpoll_poll); items found not ready leave the
   *  list, as Linux's scan drops them. */
  override readiness(_mask: number): number {
    for (const item of [...this.ready]) {
      if (item.poll() !== 0) return POLLIN | POLLRDNORM;
      this.ready.delete(item);
    }
    return 0;
  }

  override addWaiter(mask: number, cb: ReadinessCallback): () => void {
    return this.queue.subscribe(mask, cb);
  }

  override stat(): Stat { return anonInodeStat(this.owner); }
  override describe(): string { return 'anon_inode:[eventpoll]'; }
  /** noop_llseek: the position never moves from 0, and every seek says so. */
  override lseek(): number { return 0; }

  override release(): void {
    for (const byFd of this.items.values()) {
      for (const item of byFd.values()) {
        item.unsubscribe();
        item.unrelease();
      }
    }
    this.items.clear();
    this.ready.clear();
  }

  /** Set the item's events and data, subscribe to its file, and queue it if ready now
   *  (ep_insert/ep_modify). */
  private arm(item: EpollItem, ev: EpollEvent): void {
    item.events = (ev.events | POLLERR | POLLHUP) >>> 0;
    item.data = ev.data;
    const want = item.events & ~EP_PRIVATE_BITS;
    item.unsubscribe = item.file.addWaiter(want, () => this.wake(item));
    if (item.poll() !== 0) this.wake(item);
  }

  /** ep_poll_callback: the item's file changed; a disabled one-shot item ignores it. */
  private wake(item: EpollItem): void {
    if ((item.events & ~EP_PRIVATE_BITS) === 0) return;
    if (!this.find(item.file, item.fd)) return;
    this.ready.add(item);
    this.queue.notify(POLLIN);
  }

  private find(file: FileDescription, fd: number): EpollItem | undefined {
    return this.items.get(file)?.get(fd);
  }

  private forget(item: EpollItem): void {
    item.unsubscribe();
    this.ready.delete(item);
    const byFd = this.items.get(item.file);
    byFd?.delete(item.fd);
    if (byFd && byFd.size === 0) this.items.delete(item.file);
  }

  /** Whether `target` is this instance or watched through it, directly or not (the loop
   *  check of ep_loop_check). */
  private reaches(target: EpollInstance, seen = new Set<EpollInstance>()): boolean {
    if (this === target) return true;
    if (seen.has(this)) return false;
    seen.add(this);
    for (const file of this.items.keys()) {
      if (file instanceof EpollInstance && file.reaches(target, seen)) return true;
    }
    return false;
  }
}
