// Waiting for a host socket's readiness without polling it: the addon's HostFdWatcher (one
// epoll thread for the whole sentry) reports edges of the fds that have waiters, and each
// edge calls the waiters whose mask it touches. An fd is in the epoll set only while some
// waiter wants it; every new waiter re-arms it, so readiness that came before the waiter
// is reported at once (a waiter may be called when nothing changed for it: waiters re-check).

import { POLLERR, POLLHUP } from '../../abi/linux/poll';
import { addon, type NativeHostFdWatcher } from '../../native/addon';
import type { ReadinessCallback } from '../../vfs/file_description';

interface Waiter { mask: number; cb: ReadinessCallback; background: boolean }

const byFd = new Map<number, Set<Waiter>>();
let watcher: NativeHostFdWatcher | null = null;
/** The watcher's callback does not hold the event loop; while a task waits for a host fd
 *  this timer does (a sandbox whose only task waits in accept must not end). */
let keepAlive: NodeJS.Timeout | null = null;
/** Waiters that hold the event loop (all but background ones). */
let holding = 0;

function track(delta: number): void {
  holding += delta;
  if (holding > 0 && keepAlive === null) keepAlive = setInterval(() => {}, 1 << 30);
  else if (holding === 0 && keepAlive !== null) { clearInterval(keepAlive); keepAlive = null; }
}

function onReady(fd: number, events: number): void {
  const set = byFd.get(fd);
  if (!set) return;
  // A callback may add or remove waiters: walk a copy.
  for (const w of [...set]) {
    if (set.has(w) && (events & (w.mask | POLLERR | POLLHUP)) !== 0) w.cb();
  }
}

function theWatcher(): NativeHostFdWatcher {
  watcher ??= new (addon().HostFdWatcher)((ev) => onReady(ev[0], ev[1]));
  return watcher;
}

/** Call cb on each readiness edge of hostFd that touches mask (and on errors and hang-ups)
 *  until the returned undo is called. A background waiter does not keep the sentry alive. */
export function watchHostFd(hostFd: number, mask: number, cb: ReadinessCallback, background = false): () => void {
  const w: Waiter = { mask, cb, background };
  const hold = background ? 0 : 1;
  let set = byFd.get(hostFd);
  if (!set) byFd.set(hostFd, set = new Set());
  set.add(w);
  track(hold);
  const r = theWatcher().watch(hostFd);
  if (r < 0) {
    // The fd is gone (closed under us): the waiter learns it from the readiness it re-checks.
    set.delete(w);
    if (set.size === 0) byFd.delete(hostFd);
    track(-hold);
    queueMicrotask(() => cb());
    return () => {};
  }
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const s = byFd.get(hostFd);
    if (!s?.delete(w)) return;
    track(-hold);
    if (s.size === 0) {
      byFd.delete(hostFd);
      watcher?.unwatch(hostFd);
    }
  };
}

/** The host fd is about to be closed: forget its waiters' registration (they stay subscribed
 *  to nothing until they undo). */
export function forgetHostFd(hostFd: number): void {
  const s = byFd.get(hostFd);
  if (!s) return;
  byFd.delete(hostFd);
  watcher?.unwatch(hostFd);
  for (const w of s) if (!w.background) track(-1);
}

/** How many fds have waiters (for tests). */
export function watchedHostFds(): number { return byFd.size; }
