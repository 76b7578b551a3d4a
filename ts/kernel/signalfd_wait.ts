// Who waits on signalfds for a process's signals (Linux sighand->signalfd_wqh): signals.ts
// tells the queue each time it queues a signal, signalfd.ts waits on it.

import type { ThreadGroup } from './thread_group';
import { WaitQueue } from './poll/wait_queue';
import { POLLIN } from '../abi/linux/poll';

const queues = new WeakMap<ThreadGroup, WaitQueue>();

export function signalfdQueue(tg: ThreadGroup): WaitQueue {
  let q = queues.get(tg);
  if (!q) {
    q = new WaitQueue();
    queues.set(tg, q);
  }
  return q;
}

/** signalfd_notify: a signal was queued to the process or one of its threads. */
export function notifySignalfd(tg: ThreadGroup): void {
  queues.get(tg)?.notify(POLLIN);
}
