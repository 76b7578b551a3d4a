// Interruptible waits (Linux TASK_INTERRUPTIBLE / TASK_KILLABLE sleeps). A syscall that must
// wait calls block(): it registers how to be woken and how to undo the registration, and
// gets a Promise. A signal for the task (signals.ts) or its death cancels the wait through
// Task.interruptWait(); the Promise then rejects with the ERESTART* code the syscall chose,
// and signal delivery turns that into EINTR or a restart, as Linux does.

import type { Task } from './task';
import { SyscallError } from './syscall_error';
import { EAGAIN, EINTR, ERESTARTSYS } from '../abi/linux/errno';
import { signalPending } from './signals';

/** Registers a wake-up: call wake(value) once to end the wait; returns the undo. */
export type WaitSetup<T> = (wake: (value: T) => void) => () => void;

export interface BlockOptions {
  /** The error an interrupted wait fails with (ERESTARTSYS unless the syscall says). */
  restart?: number;
  /** Give way only to death (TASK_KILLABLE), not to signals. */
  killableOnly?: boolean;
  /** Give up after this many ns, resolving with onTimeout's value. */
  timeoutNs?: bigint;
}

/** The wait of an io_uring request run as by an io-wq worker: cancel ends it (EINTR). */
export interface IoWorkerWait { cancel: (() => void) | null }

export function block<T>(t: Task, setup: WaitSetup<T>, opts: BlockOptions = {},
  onTimeout?: () => T): Promise<T> {
  const restart = opts.restart ?? ERESTARTSYS;
  if (t.ioNowait) return Promise.reject(new SyscallError(EAGAIN));
  const w = t.ioWorker;
  if (w !== null) {
    // No wait of the task (an io-wq worker's): signals do not end it, the request's cancel does.
    return waitFor(setup, opts, onTimeout, {
      arm: (cancel) => { w.cancel = cancel; },
      disarm: () => { w.cancel = null; },
      cancelled: (reject) => reject(new SyscallError(EINTR)),
    });
  }
  if (t.exited || (!opts.killableOnly && signalPending(t))) {
    return new Promise<T>((_, reject) => fail(t, restart, reject));
  }
  return waitFor(setup, opts, onTimeout, {
    arm: (cancel) => {
      t.waitCancel = cancel;
      t.waitKillableOnly = opts.killableOnly ?? false;
    },
    disarm: (cancel) => {
      if (t.waitCancel !== cancel) return;
      t.waitCancel = null;
      t.waitKillableOnly = false;
    },
    cancelled: (reject) => fail(t, restart, reject),
  });
}

/** Who may end a wait early: arm registers its cancel, disarm takes it back at the end. */
interface WaitOwner {
  arm(cancel: () => void): void;
  disarm(cancel: () => void): void;
  cancelled(reject: (e: unknown) => void): void;
}

function waitFor<T>(setup: WaitSetup<T>, opts: BlockOptions, onTimeout: (() => T) | undefined, owner: WaitOwner): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let undo: (() => void) | null = null;
    let cancelTimer: (() => void) | null = null;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      owner.disarm(cancel);
      cancelTimer?.();
      undo?.();
      return true;
    };
    const cancel = (): void => { if (finish()) owner.cancelled(reject); };
    owner.arm(cancel);
    undo = setup((v) => { if (finish()) resolve(v); });
    if (done) {
      undo();
      return;
    }
    if (opts.timeoutNs !== undefined && onTimeout) {
      cancelTimer = afterNs(opts.timeoutNs, () => { if (finish()) resolve(onTimeout()); });
    }
  });
}

function fail(t: Task, errno: number, reject: (e: unknown) => void): void {
  t.syscallRestart = errno;
  reject(new SyscallError(errno));
}

/** Run fn once ns nanoseconds of CLOCK_MONOTONIC have passed; returns a cancel function.
 *  Timers fire in whole milliseconds, so the last millisecond is finished with setImmediate
 *  turns: a sleep must never end early. */
export function afterNs(ns: bigint, fn: () => void): () => void {
  const deadline = process.hrtime.bigint() + ns;
  let timer: NodeJS.Timeout | null = null;
  let immediate: NodeJS.Immediate | null = null;
  let cancelled = false;
  const tick = (): void => {
    timer = null;
    immediate = null;
    if (cancelled) return;
    const left = deadline - process.hrtime.bigint();
    if (left <= 0n) fn();
    else if (left >= 1_000_000n) timer = setTimeout(tick, Number(left / 1_000_000n > 0x7fff_ffffn ? 0x7fff_ffffn : left / 1_000_000n));
    else immediate = setImmediate(tick);
  };
  tick();
  return () => {
    cancelled = true;
    if (timer) clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
  };
}
