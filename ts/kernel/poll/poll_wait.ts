// The wait at the heart of poll, ppoll, select and pselect6 (Linux do_poll/do_select): ask
// every file for its readiness; if none is ready and time is left, subscribe to all of them,
// sleep until one may have changed (or the timeout, or a signal), and ask again. The
// synchronous first scan answers the common case with no promise.

import type { Task } from '../task';
import type { FileDescription } from '../../vfs/file_description';
import { POLLERR, POLLHUP } from '../../abi/linux/poll';
import { block } from '../blocking';

export interface PollTarget {
  /** null: nothing to ask (poll's negative fd, or POLLNVAL already decided). */
  file: FileDescription | null;
  /** Bits of interest; POLLERR and POLLHUP are added by the caller where Linux does. */
  mask: number;
  /** Result: readiness & mask after the last scan. */
  revents: number;
}

/** One pass over the targets; returns how many have something to report (a target with
 *  no file keeps the revents it was given). */
export function scanTargets(targets: PollTarget[]): number {
  let n = 0;
  for (const tg of targets) {
    if (tg.file) tg.revents = tg.file.readiness(tg.mask) & tg.mask;
    if (tg.revents !== 0) n++;
  }
  return n;
}

export interface PollWaitOptions {
  /** Absolute CLOCK_MONOTONIC deadline in ns; null waits forever. */
  deadline: bigint | null;
  /** The error an interrupted wait fails with (ERESTARTNOHAND, ERESTART_RESTARTBLOCK...). */
  restart: number;
}

/** Scan, and wait while nothing is ready and the deadline has not passed. Resolves with the
 *  count of ready targets (0 on timeout); a signal rejects with opts.restart. */
export function pollTargets(t: Task, targets: PollTarget[], opts: PollWaitOptions): number | Promise<number> {
  const n = scanTargets(targets);
  if (n > 0 || (opts.deadline !== null && t.kernel.monotonicNs() >= opts.deadline)) return n;
  return waitTargets(t, targets, opts);
}

async function waitTargets(t: Task, targets: PollTarget[], opts: PollWaitOptions): Promise<number> {
  for (;;) {
    const left = opts.deadline === null ? undefined : opts.deadline - t.kernel.monotonicNs();
    if (left !== undefined && left <= 0n) return scanTargets(targets);
    await block<void>(t, (wake) => {
      const undo = targets.map((tg) => tg.file ? tg.file.addWaiter(tg.mask | POLLERR | POLLHUP, () => wake()) : null);
      return () => { for (const u of undo) u?.(); };
    }, { restart: opts.restart, timeoutNs: left }, () => undefined);
    const n = scanTargets(targets);
    if (n > 0) return n;
  }
}
