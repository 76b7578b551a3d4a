// fs.nr_open (Linux fs/file.c sysctl_nr_open): the most descriptors a table may hold, and so
// the ceiling for RLIMIT_NOFILE's hard limit. One value for the whole sandbox's kernel.

import type { Kernel } from './kernel';
import { NR_OPEN } from '../abi/linux/fcntl';

/** The least fs.nr_open may be set to (BITS_PER_LONG). */
export const NR_OPEN_MIN = 64;
const values = new WeakMap<Kernel, number>();

export function nrOpen(k: Kernel): number {
  return values.get(k) ?? NR_OPEN;
}

/** n is already checked against [NR_OPEN_MIN, NR_OPEN_MAX]. */
export function setNrOpen(k: Kernel, n: number): void {
  values.set(k, n);
}
