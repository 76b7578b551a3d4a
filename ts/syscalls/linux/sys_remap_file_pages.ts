// remap_file_pages (Linux mm/mmap.c): deprecated nonlinear mappings, emulated as Linux has
// done since 4.0: the range, inside one shared file VMA, is mapped again (MAP_FIXED) to the
// same file at pgoff, with the VMA's protection, populated. Anything else is EINVAL.
// Owns nothing in mm/: the remap is an ordinary MAP_FIXED mmap.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, EOVERFLOW } from '../../abi/linux/errno';
import { MAP_FIXED, MAP_LOCKED, MAP_NONBLOCK, MAP_POPULATE, MAP_SHARED } from '../../abi/linux/mm';
import { SYS_remap_file_pages } from '../../abi/linux/syscall_numbers';
import { VM_LOCKED } from '../../mm/mlock';
import type { SyscallArgs, SyscallTable } from './types';

const PAGE_MASK = ~4095n & ((1n << 64n) - 1n);
const U64 = (1n << 64n) - 1n;
const MAX_LFS_FILESIZE = (1n << 63n) - 1n;

function sysRemapFilePages(t: Task, a: SyscallArgs): number {
  const start = a.u64(0) & PAGE_MASK;
  const size = a.u64(1) & PAGE_MASK;
  const prot = a.u64(2);
  const pgoff = a.u64(3);
  const flags = Number(a.u64(4) & 0xffffffffn);
  if (prot !== 0n) fail(EINVAL);
  if (((start + size) & U64) <= start) fail(EINVAL);
  if (((pgoff + (size >> 12n)) & U64) < pgoff) fail(EINVAL);
  const vma = Number.isSafeInteger(Number(start)) ? t.mm.vmas.find(Number(start)) : undefined;
  // VM_SHARED: Linux drops it from a shared mapping of a file opened without write access.
  // Shared anonymous memory (shmem in Linux) is not remappable here: its pages belong to
  // the VMA, not to a file (see support.ts).
  if (vma === undefined || !vma.mayWriteShared || vma.backing === null) fail(EINVAL);
  // The range may run on over the next VMAs if they continue this one without a hole: same
  // file, same flags (earlier remaps split a VMA that way).
  const end = start + size;
  if (end > BigInt(vma.end)) {
    let prev = vma;
    for (const next of t.mm.vmas.overlapping(vma.end, Number(end))) {
      if (next.start !== prev.end || next.backing !== vma.backing || next.prot !== vma.prot ||
        next.maxProt !== vma.maxProt || next.shared !== vma.shared || next.locked !== vma.locked) fail(EINVAL);
      prev = next;
    }
    if (BigInt(prev.end) < end) fail(EINVAL);
  }
  // file_mmap_ok: the new mapping must end within MAX_LFS_FILESIZE.
  const offset = pgoff << 12n;
  if (offset + size > MAX_LFS_FILESIZE) fail(EOVERFLOW);
  let mflags = (flags & MAP_NONBLOCK) | MAP_SHARED | MAP_FIXED | MAP_POPULATE;
  if ((vma.locked & VM_LOCKED) !== 0) mflags |= MAP_LOCKED;
  t.mm.mmap(Number(start), Number(size), vma.prot, mflags, vma.backing, Number(offset), vma.maxProt);
  return 0;
}

export function registerRemapFilePages(table: SyscallTable): void {
  table[SYS_remap_file_pages] = {
    name: 'remap_file_pages', handler: sysRemapFilePages, args: ['hex', 'hex', 'hex', 'hex', 'hex'],
  };
}
