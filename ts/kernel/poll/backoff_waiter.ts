// Waiting for readiness the sentry cannot be told about: a host fd (stdin a host pipe or
// tty). Node offers no way to watch an arbitrary fd with libuv without taking it over (a
// net.Socket on it would read the data itself), and a thread-pool poll(2) would hold a
// pool thread per waiter. So the fd is re-polled on timers: 1 ms after subscribing, backing
// off to 10 ms while nothing changes, so a wait costs at most ~100 zero-timeout polls a
// second and adds at most 10 ms of latency. The event loop is never blocked.

import type { ReadinessCallback } from '../../vfs/file_description';

const FIRST_DELAY_MS = 1;
const MAX_DELAY_MS = 10;

/** Call cb whenever a bit of mask appears in check()'s answer that the previous check did
 *  not show (the first check compares with nothing, so a file already ready is reported
 *  once). Returns the undo. */
export function pollWithBackoff(check: () => number, mask: number, cb: ReadinessCallback): () => void {
  let last = 0;
  let delay = FIRST_DELAY_MS;
  let timer: NodeJS.Timeout | null = null;
  const tick = (): void => {
    timer = null;
    const now = check() & mask;
    if ((now & ~last) !== 0) delay = FIRST_DELAY_MS;
    else delay = Math.min(delay * 2, MAX_DELAY_MS);
    const fire = (now & ~last) !== 0;
    last = now;
    // Re-arm before the callback: it may unsubscribe, which must clear this timer.
    timer = setTimeout(tick, delay);
    if (fire) cb();
  };
  timer = setTimeout(tick, delay);
  return () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
}
