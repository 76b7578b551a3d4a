// The kernel's taint flags (Linux kernel/panic.c, /proc/sys/kernel/tainted). Nothing in the
// sandbox's kernel taints it (no modules, no oopses), so the mask starts empty; a privileged
// write adds flags, as proc_taint does, and none can be taken away.

import type { Kernel } from './kernel';
import type { Task } from './task';
import { fail } from './syscall_error';
import { EINVAL, EPERM } from '../abi/linux/errno';
import { CAP_SYS_ADMIN } from './capabilities';

/** TAINT_FLAGS_COUNT: the flags there are (TAINT_PROPRIETARY_MODULE .. TAINT_TEST). */
const TAINT_FLAGS_COUNT = 19;

const masks = new WeakMap<Kernel, bigint>();

export function taintMask(k: Kernel): bigint {
  return masks.get(k) ?? 0n;
}

/** proc_taint's write: CAP_SYS_ADMIN, an unsigned long; each known flag it has is added. */
export function addTaint(t: Task, text: string): void {
  if (!t.creds.hasCapability(CAP_SYS_ADMIN)) fail(EPERM);
  const m = /^\s*(\d+)(?:\s|$)/.exec(text);
  if (m === null) fail(EINVAL);
  const v = BigInt(m[1]);
  if (v >= 1n << 64n) fail(EINVAL);
  const known = v & ((1n << BigInt(TAINT_FLAGS_COUNT)) - 1n);
  masks.set(t.kernel, taintMask(t.kernel) | known);
}
