// WaitQueue: who to tell when a file's readiness changes (Linux wait_queue_head_t with
// poll keys, gVisor waiter.Queue). A waiter registers the POLL* bits it cares about; a
// change notifies those whose bits meet the change's. Files built in the sentry (eventfd,
// epoll, timerfd) keep one and implement FileDescription.addWaiter with it.

import { POLLERR, POLLHUP } from '../../abi/linux/poll';
import type { ReadinessCallback } from '../../vfs/file_description';

interface Waiter { mask: number; cb: ReadinessCallback }

export class WaitQueue {
  private readonly waiters = new Set<Waiter>();

  /** Register cb for mask (POLLERR and POLLHUP are always included); returns the undo. */
  subscribe(mask: number, cb: ReadinessCallback): () => void {
    const w: Waiter = { mask: mask | POLLERR | POLLHUP, cb };
    this.waiters.add(w);
    return () => { this.waiters.delete(w); };
  }

  /** Readiness for `events` may have changed. Waiters may unsubscribe (or subscribe others)
   *  from their callbacks: those added meanwhile are not called this time. */
  notify(events: number): void {
    if (this.waiters.size === 0) return;
    for (const w of [...this.waiters]) {
      if ((w.mask & events) !== 0 && this.waiters.has(w)) w.cb();
    }
  }

  get empty(): boolean { return this.waiters.size === 0; }
}
