// vm.max_map_count (Linux sysctl_max_map_count): how many VMAs one address space may have, one
// setting per sandbox (kept with its memory file, as the page cache is). mmap and brk refuse a
// new VMA past it, munmap refuses to punch a hole in a VMA at it, mremap keeps room for its
// splits; /proc/sys/vm/max_map_count reads and sets it.

import type { NativeMemoryFile } from '../native/addon';
import { fail } from '../kernel/syscall_error';
import { EINVAL } from '../abi/linux/errno';

/** DEFAULT_MAX_MAP_COUNT: USHRT_MAX - MAPCOUNT_ELF_CORE_MARGIN. */
export const DEFAULT_MAX_MAP_COUNT = 65530;

const limits = new WeakMap<NativeMemoryFile, number>();

export function maxMapCount(mf: NativeMemoryFile): number {
  return limits.get(mf) ?? DEFAULT_MAX_MAP_COUNT;
}

/** proc_dointvec_minmax over [0, INT_MAX]: the first integer of the text. */
export function setMaxMapCount(mf: NativeMemoryFile, text: string): void {
  const m = /^\s*([+-]?\d+)(?:\s|$)/.exec(text);
  if (m === null) fail(EINVAL);
  const v = Number(m[1]);
  if (v < 0 || v > 0x7fff_ffff) fail(EINVAL);
  limits.set(mf, v);
}
