// Memory syscalls: brk, mmap, munmap, mprotect, mremap, madvise, msync, mincore (the mlock
// family is sys_mlock.ts's). Argument decoding and the checks that involve the file (its open mode) live here;
// what the calls mean lives in mm/.

import { isAppendOnly } from '../../vfs/inode_flags';
import type { Task } from '../../kernel/task';
import type { FileDescription } from '../../vfs/file_description';
import { VfsFile } from '../../vfs/vfs_file';
import type { SyscallArgs, SyscallTable } from './types';
import { mapShmem, shmemZeroSetup } from '../../fsimpl/tmpfs/shmem_zero';
import type { MappingBacking } from '../../mm/memory_manager';
import {
  SYS_brk, SYS_madvise, SYS_mincore, SYS_mmap, SYS_mprotect, SYS_mremap, SYS_msync, SYS_munmap,
} from '../../abi/linux/syscall_numbers';
import {
  MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_TYPE, MS_ASYNC, MS_INVALIDATE, MS_SYNC, PROT_EXEC, PROT_READ, PROT_WRITE,
  MAP_HUGETLB, MAP_LOCKED, PROT_RWX } from '../../abi/linux/mm';
import { EACCES, EBADF, EBUSY, EFAULT, EINVAL, ENODEV, ENOMEM, EOVERFLOW, EPERM } from '../../abi/linux/errno';
import { O_PATH } from '../../abi/linux/fcntl';
import { RLIMIT_AS, RLIMIT_DATA } from '../../kernel/rlimits';
import { limitBytes } from '../../mm/accounting';
import { fail } from '../../kernel/syscall_error';
import { PAGE_SIZE, isPageAligned, pageUp } from '../../mm/layout';
import { checkMmapLock, checkSecretLock } from './sys_mlock';
import { accessOk } from './user_io';

const MAX_LFS_FILESIZE = (1n << 63n) - 1n;

/** The caller's RLIMIT_AS and RLIMIT_DATA, for the calls that may grow the address space. */
function syncVmLimits(t: Task): void {
  const l = t.mm.vmLimits;
  l.as = limitBytes(t.tg.rlimits[RLIMIT_AS].cur);
  l.data = limitBytes(t.tg.rlimits[RLIMIT_DATA].cur);
}

function sysBrk(t: Task, a: SyscallArgs): number {
  syncVmLimits(t);
  return t.mm.brk(a.ptr(0));
}

/** The shmem file behind a new shared anonymous mapping, or null for a length mmap refuses
 *  anyway (it says why). */
function sharedAnonymous(t: Task, length: number): MappingBacking | null {
  const len = pageUp(length);
  return length > 0 && Number.isSafeInteger(len) && len <= t.mm.maxAddr ? shmemZeroSetup(t, len) : null;
}

/** An anonymous mapping, shared when it has its shmem file. */
function mmapAnonymous(t: Task, addr: number, length: number, prot: number, flags: number,
  shmem: MappingBacking | null, maxProt: number): number {
  return mapShmem(shmem, () => t.mm.mmap(addr, length, prot, flags, shmem, 0, maxProt));
}

function sysMmap(t: Task, a: SyscallArgs): number {
  const addr = a.ptr(0);
  const length = a.size(1);
  const prot = a.int(2);
  const flags = a.int(3);
  const off = a.u64(5);
  if ((off & BigInt(PAGE_SIZE - 1)) !== 0n) fail(EINVAL);
  // No huge page pool (HugePages_Total 0): Linux's hugetlb_file_setup fails anonymous ones
  // with ENOMEM; a file of another file system cannot be mapped with huge pages at all.
  if ((flags & MAP_HUGETLB) !== 0) fail((flags & MAP_ANONYMOUS) !== 0 ? ENOMEM : EINVAL);
  syncVmLimits(t);
  checkMmapLock(t, flags, length);
  // A mapping type Linux does not know is EINVAL once the range is found (a range that
  // cannot be is ENOMEM first), before anything about the file but its size.
  const type = flags & MAP_TYPE;
  const badType = type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE;
  if ((flags & MAP_ANONYMOUS) !== 0) {
    if (badType && length !== 0 && pageUp(length) <= t.mm.maxAddr) fail(EINVAL);
    return mmapAnonymous(t, addr, length, prot, flags, type === MAP_SHARED ? sharedAnonymous(t, length) : null, PROT_RWX);
  }

  const file: FileDescription | undefined = t.fdTable.get(a.int(4));
  if (file === undefined || (file.flags & O_PATH) !== 0) fail(EBADF);
  // do_mmap: an empty mapping is EINVAL before anything about the file.
  if (length === 0) fail(EINVAL);
  // file_mmap_ok: the mapping must end within MAX_LFS_FILESIZE. A page-aligned offset below
  // 2^63 is an exact number.
  if (off + BigInt(pageUp(length)) > MAX_LFS_FILESIZE) fail(EOVERFLOW);
  if (badType && length !== 0) fail(EINVAL);
  // Linux do_mmap: every file mapping needs read access; a shared one also needs write access
  // to be writable, and without it can never become writable. Only then is a file that
  // cannot be mapped at all (a pipe, a socket) ENODEV.
  if (!file.readable) fail(EACCES);
  let maxProt = PROT_READ | PROT_WRITE | PROT_EXEC;
  // No shared mapping of an append-only file through a descriptor that may write it.
  if ((flags & MAP_TYPE) !== MAP_PRIVATE && file.writable && file instanceof VfsFile && isAppendOnly(file.inode)) fail(EACCES);
  if ((flags & MAP_TYPE) !== MAP_PRIVATE && !file.writable) {
    if ((prot & PROT_WRITE) !== 0) fail(EACCES);
    maxProt &= ~PROT_WRITE;
  }
  const mappable: MappingBacking | null = file.mappable();
  if (mappable === null) fail(ENODEV);
  // A shared map of /dev/zero is shared anonymous memory (shmem_zero_setup), from its start.
  if (mappable.sharedAnonymous === true && type !== MAP_PRIVATE) {
    return mmapAnonymous(t, addr, length, prot, flags, sharedAnonymous(t, length), maxProt);
  }
  const backing = file instanceof VfsFile ? { ...mappable, inode: file.inode } : mappable;
  // secretmem_mmap: shared only, and locked within RLIMIT_MEMLOCK.
  if (backing.secret === true) {
    if ((flags & MAP_TYPE) === MAP_PRIVATE) fail(EINVAL);
    checkSecretLock(t, length);
  }
  // A write-sealed memfd (seal_check_write): no shared mapping that writes, now or later.
  if ((flags & MAP_TYPE) !== MAP_PRIVATE && backing.writeSealed?.() === true) {
    if ((prot & PROT_WRITE) !== 0) fail(EPERM);
    maxProt &= ~PROT_WRITE;
  }
  // hugetlb_reserve_pages: no huge pages to reserve.
  if (backing.hugetlb === true) fail(ENOMEM);
  backing.checkMap?.(Number(off), length);
  return t.mm.mmap(addr, length, prot, backing.secret === true ? flags | MAP_LOCKED : flags, backing, Number(off), maxProt);
}

function sysMunmap(t: Task, a: SyscallArgs): number {
  t.mm.munmap(a.ptr(0), a.size(1));
  return 0;
}

/** Whether argument i, a start address, is page aligned: asked of the register's low word,
 *  as a.ptr's double rounds an address past 2^53 (2^64-1 becomes an aligned 2^64). */
function startAligned(a: SyscallArgs, i: number): boolean {
  return (a.uint(i) & (PAGE_SIZE - 1)) === 0;
}

function sysMprotect(t: Task, a: SyscallArgs): number {
  if (!startAligned(a, 0)) fail(EINVAL);
  syncVmLimits(t);
  t.mm.mprotect(a.ptr(0), a.size(1), a.int(2));
  return 0;
}

function sysMremap(t: Task, a: SyscallArgs): number {
  if (!startAligned(a, 0)) fail(EINVAL);
  syncVmLimits(t);
  return t.mm.mremap(a.ptr(0), a.size(1), a.size(2), a.int(3), a.ptr(4));
}

function sysMadvise(t: Task, a: SyscallArgs): number {
  if (!startAligned(a, 0)) fail(EINVAL);
  t.mm.madvise(a.ptr(0), a.size(1), a.int(2));
  return 0;
}

function sysMsync(t: Task, a: SyscallArgs): number {
  const addr = a.ptr(0);
  const flags = a.int(2);
  if (!startAligned(a, 0) || (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) !== 0 ||
    ((flags & MS_ASYNC) !== 0 && (flags & MS_SYNC) !== 0)) {
    fail(EINVAL);
  }
  // The length in size_t: one that aligns up to 0 (a wrap) is an empty range, done; a range
  // past the end of the address space is ENOMEM.
  const len64 = (BigInt.asUintN(64, a.i64(1)) + 0xfffn) & 0xffff_ffff_ffff_f000n;
  if (len64 === 0n) return 0;
  if (BigInt(addr) + len64 >= 1n << 64n) fail(ENOMEM);
  // Shared mappings of most files write straight into the file's pages: nothing to flush.
  // Locked pages cannot be invalidated.
  const len = pageUp(a.size(1));
  if ((flags & MS_INVALIDATE) !== 0 && Number.isSafeInteger(addr + len)) {
    for (const v of t.mm.vmas.overlapping(addr, addr + len)) if (v.locked !== 0) fail(EBUSY);
  }
  if (!t.mm.isMapped(addr, a.size(1))) fail(ENOMEM);
  // A file whose shared pages are a copy of it (a gofer file) is written back now, MS_ASYNC
  // too: on Linux the page cache is the file, so other readers see the data at once.
  const synced = new Set<MappingBacking>();
  for (const v of t.mm.vmas.overlapping(addr, addr + len)) {
    if (v.shared && v.backing?.sync && !synced.has(v.backing)) {
      synced.add(v.backing);
      v.backing.sync();
    }
  }
  return 0;
}

function sysMincore(t: Task, a: SyscallArgs): number {
  // Linux's order: alignment, the range (ENOMEM), the vector (EFAULT), then the pages one
  // mapping at a time: what is mapped from addr on is reported before a hole is ENOMEM.
  const addr = a.ptr(0), length = a.size(1), vec = a.ptr(2);
  if (!startAligned(a, 0)) fail(EINVAL);
  if (!accessOk(addr, length)) fail(ENOMEM);
  const pages = Math.ceil(length / PAGE_SIZE);
  if (!accessOk(vec, pages)) fail(EFAULT);
  const end = addr + pages * PAGE_SIZE;
  let covered = addr;
  while (covered < end) {
    const v = t.mm.vmas.find(covered);
    if (!v) break;
    covered = v.end;
  }
  const mapped = (Math.min(covered, end) - addr) / PAGE_SIZE;
  if (mapped > 0) t.mm.copyOut(vec, t.mm.mincore(addr, mapped * PAGE_SIZE));
  if (mapped < pages) fail(ENOMEM);
  return 0;
}

export function registerMM(table: SyscallTable): void {
  table[SYS_brk] = { name: 'brk', handler: sysBrk, args: ['ptr'] };
  table[SYS_mmap] = { name: 'mmap', handler: sysMmap, args: ['ptr', 'size', 'prot', 'mmapflags', 'fd', 'hex'] };
  table[SYS_munmap] = { name: 'munmap', handler: sysMunmap, args: ['ptr', 'size'] };
  table[SYS_mprotect] = { name: 'mprotect', handler: sysMprotect, args: ['ptr', 'size', 'prot'] };
  table[SYS_mremap] = { name: 'mremap', handler: sysMremap, args: ['ptr', 'size', 'size', 'hex', 'ptr'] };
  table[SYS_madvise] = { name: 'madvise', handler: sysMadvise, args: ['ptr', 'size', 'int'] };
  table[SYS_msync] = { name: 'msync', handler: sysMsync, args: ['ptr', 'size', 'hex'] };
  table[SYS_mincore] = { name: 'mincore', handler: sysMincore, args: ['ptr', 'size', 'ptr'] };
}
