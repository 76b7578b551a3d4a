// A thread's registered io_uring rings (IORING_REGISTER_RING_FDS: Linux's tctx
// registered_rings): up to 16 slots that io_uring_enter and io_uring_register may name
// instead of a descriptor. Each slot holds a reference on its ring; a thread's exit (or exec,
// Linux io_uring_files_cancel) lets them go. Kept apart from the rest of io_uring so that the
// exit path need not load it.

import type { Task } from '../task';
import type { FileDescription } from '../../vfs/file_description';

export const IO_RINGFD_REG_MAX = 16;
const slots = new WeakMap<Task, (FileDescription | null)[]>();

export function ringSlots(t: Task): (FileDescription | null)[] {
  let s = slots.get(t);
  if (!s) {
    s = new Array<FileDescription | null>(IO_RINGFD_REG_MAX).fill(null);
    slots.set(t, s);
  }
  return s;
}

/** The thread exits or execs: its slots let their rings go. */
export function releaseRingSlots(t: Task): void {
  const s = slots.get(t);
  if (!s) return;
  slots.delete(t);
  for (const f of s) f?.decRef();
}
