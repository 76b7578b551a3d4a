// Restart blocks (Linux struct restart_block): a syscall interrupted with
// ERESTART_RESTARTBLOCK may leave how to go on. If no handler runs, signal delivery points the
// task at restart_syscall(2), which calls it (nanosleep sleeps the time that was left, not
// the whole time again); if a handler runs, the call fails with EINTR and the block goes.
// A syscall that leaves none is simply run again, with its original arguments.

import type { Task } from './task';
import type { SyscallReturn } from '../syscalls/linux/types';

export type RestartFn = (t: Task) => SyscallReturn;

const blocks = new WeakMap<Task, RestartFn>();

export function setRestartBlock(t: Task, fn: RestartFn): void {
  blocks.set(t, fn);
}

export function hasRestartBlock(t: Task): boolean {
  return blocks.has(t);
}

export function clearRestartBlock(t: Task): void {
  blocks.delete(t);
}

/** restart_syscall's part: the block, taken (null: do_no_restart_syscall's EINTR). */
export function takeRestartBlock(t: Task): RestartFn | null {
  const fn = blocks.get(t);
  blocks.delete(t);
  return fn ?? null;
}
