// mremap(2): shrink, grow in place, or move a mapping. Moving keeps the contents by mapping
// the same memory-file pages at the new address before unmapping the old one, so nothing
// is copied. MREMAP_DONTUNMAP moves the pages but leaves the old range mapped, empty (private
// memory refaults as zeros or from the file; shared memory still shows the same pages).

import { MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE } from '../abi/linux/mm';
import { EFAULT, EINVAL, ENOMEM } from '../abi/linux/errno';
import { fail } from '../kernel/syscall_error';
import { isPageAligned, pageUp } from './layout';
import { maxMapCount } from './map_count';
import type { MemoryManager } from './memory_manager';
import type { Vma } from './vma';
import { accountable, enoughMemory, isDataMapping } from './accounting';

export function mremap(mm: MemoryManager, oldAddr: number, oldSize: number, newSize: number,
  flags: number, newAddr: number): number {
  if ((flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0) fail(EINVAL);
  if ((flags & MREMAP_FIXED) !== 0 && (flags & MREMAP_MAYMOVE) === 0) fail(EINVAL);
  if (!isPageAligned(oldAddr)) fail(EINVAL);
  let oldLen = pageUp(oldSize);
  const newLen = pageUp(newSize);
  if (newLen === 0 || !Number.isSafeInteger(newLen) || !Number.isSafeInteger(oldLen)) fail(EINVAL);
  if (newLen > mm.maxAddr) fail(ENOMEM);
  const dontUnmap = (flags & MREMAP_DONTUNMAP) !== 0;
  // check_mremap_params: DONTUNMAP names a new place too, and cannot resize.
  if (dontUnmap && (!isPageAligned(newAddr) || (flags & MREMAP_MAYMOVE) === 0 || oldLen !== newLen)) fail(EINVAL);

  const vma = mm.vmas.find(oldAddr);
  if (vma === undefined) fail(EFAULT);
  if (oldLen === 0) return duplicateShared(mm, vma, oldAddr, newLen, flags, newAddr);
  // vma_to_resize: the old range lies in one VMA, and growth fits RLIMIT_AS/RLIMIT_DATA.
  const resizable = (): void => {
    if (oldLen > vma.end - oldAddr) fail(EFAULT);
    if (newLen > oldLen && !mm.mayExpand(isDataMapping(vma.prot, vma.shared, vma.growsDown), newLen - oldLen)) fail(ENOMEM);
    // A mapping that committed its pages (VM_ACCOUNT) commits the growth too.
    if (newLen > oldLen && !vma.shared && accountable(vma.prot, false, vma.anonymous, vma.noReserve) && !enoughMemory(newLen - oldLen)) fail(ENOMEM);
  };

  if ((flags & MREMAP_FIXED) !== 0) {
    if (!isPageAligned(newAddr) || newAddr < mm.minAddr || newAddr > mm.maxAddr - newLen) fail(EINVAL);
    if (newAddr < oldAddr + oldLen && oldAddr < newAddr + newLen) fail(EINVAL);
    resizable();
    if (dontUnmap && !mm.mayExpand(isDataMapping(vma.prot, vma.shared, vma.growsDown), newLen)) fail(ENOMEM);
    mm.unmapRange(newAddr, newAddr + newLen);
    if (dontUnmap) {
      moveKeepingOld(mm, oldAddr, newAddr, newLen);
      return newAddr;
    }
    if (oldLen > newLen) {
      mm.unmapRange(oldAddr + newLen, oldAddr + oldLen);
      oldLen = newLen;
    }
    move(mm, oldAddr, oldLen, newAddr, newLen);
    return newAddr;
  }

  if (dontUnmap) {
    resizable();
    if (!mm.mayExpand(isDataMapping(vma.prot, vma.shared, vma.growsDown), newLen)) fail(ENOMEM);
    const dest = mm.findUnmapped(newAddr, newLen);
    if (dest < 0) fail(ENOMEM);
    moveKeepingOld(mm, oldAddr, dest, newLen);
    return dest;
  }

  // Shrinking is an munmap of the tail, whatever VMAs it spans.
  if (newLen <= oldLen) {
    if (newLen < oldLen) mm.unmapRange(oldAddr + newLen, oldAddr + oldLen);
    return oldAddr;
  }
  resizable();
  const oldEnd = oldAddr + oldLen;
  if (oldEnd === vma.end && oldAddr + newLen <= mm.maxAddr && mm.vmas.fits(oldEnd, oldAddr + newLen)) {
    extend(mm, vma, oldAddr + newLen);
    return oldAddr;
  }
  if ((flags & MREMAP_MAYMOVE) === 0) fail(ENOMEM);
  const dest = mm.findUnmapped(0, newLen);
  if (dest < 0) fail(ENOMEM);
  move(mm, oldAddr, oldLen, dest, newLen);
  return dest;
}

/** Move [oldAddr, +oldLen), all inside one VMA, to a free range at newAddr of newLen >= oldLen. */
function move(mm: MemoryManager, oldAddr: number, oldLen: number, newAddr: number, newLen: number): void {
  if (mm.vmas.count >= maxMapCount(mm.mf) - 3) fail(ENOMEM);
  const [old] = mm.vmas.remove(oldAddr, oldAddr + oldLen);
  const moved = old.slice(old.start, old.end);
  moved.start = newAddr;
  moved.end = newAddr + oldLen;
  rebaseUnfaulted(moved);
  // Map the new place first: it takes its own page references, so unmapping the old place
  // frees nothing.
  mm.pmas.copyMappings(oldAddr, newAddr, oldLen, mm.pmas.hostProt(moved));
  mm.addressSpace.unmap(oldAddr, oldLen);
  mm.vmas.insert(moved);
  mm.vmas.release([old]);
  if (newLen > oldLen) extend(mm, moved, newAddr + newLen);
  mm.vmas.mergeAround(newAddr, newAddr + newLen);
}

/** MREMAP_DONTUNMAP: the pages of [oldAddr, +len), all in one VMA, go to the free range at
 *  newAddr; the old VMA stays, unlocked, with nothing mapped (a shared one faults the file's
 *  pages in again, so both show the same memory). */
function moveKeepingOld(mm: MemoryManager, oldAddr: number, newAddr: number, len: number): void {
  if (mm.vmas.count >= maxMapCount(mm.mf) - 3) fail(ENOMEM);
  mm.vmas.split(oldAddr);
  mm.vmas.split(oldAddr + len);
  const old = mm.vmas.find(oldAddr);
  if (old === undefined) fail(EFAULT);
  const moved = old.slice(old.start, old.end);
  moved.start = newAddr;
  moved.end = newAddr + len;
  rebaseUnfaulted(moved);
  mm.pmas.copyMappings(oldAddr, newAddr, len, mm.pmas.hostProt(moved));
  mm.addressSpace.unmap(oldAddr, len);
  old.locked = 0;
  mm.vmas.insert(moved);
  mm.vmas.mergeAround(oldAddr, oldAddr + len);
  mm.vmas.mergeAround(newAddr, newAddr + len);
}

/** copy_vma: private anonymous memory that never had a page takes the offset of where it now
 *  is, as a new mapping there would; with pages it keeps its own (and so its neighbours). */
function rebaseUnfaulted(moved: Vma): void {
  if (moved.backing === null && moved.anonVma === null) moved.offset = moved.start;
}

/** Grow vma up to newEnd, which is known to be free. A shared mapping's file keeps its size:
 *  growing past its end maps pages that are SIGBUS when touched, as Linux's shmem file. */
function extend(mm: MemoryManager, vma: Vma, newEnd: number): void {
  vma.end = newEnd;
  mm.vmas.mergeAround(vma.start, newEnd);
}

/** old_size 0: a second mapping of the same shared pages (Linux allows it for shared VMAs). */
function duplicateShared(mm: MemoryManager, vma: Vma, oldAddr: number, newLen: number, flags: number,
  newAddr: number): number {
  if (!vma.shared || (flags & MREMAP_MAYMOVE) === 0) fail(EINVAL);
  if (newLen > vma.end - oldAddr) fail(ENOMEM);
  const copy = vma.slice(oldAddr, oldAddr + newLen);
  // The file stays while MREMAP_FIXED unmaps what is in the way (perhaps the source).
  copy.backing?.hold?.(false);
  try {
    let dest: number;
    if ((flags & MREMAP_FIXED) !== 0) {
      if (!isPageAligned(newAddr) || newAddr < mm.minAddr || newAddr > mm.maxAddr - newLen) fail(EINVAL);
      mm.unmapRange(newAddr, newAddr + newLen);
      dest = newAddr;
    } else {
      dest = mm.findUnmapped(0, newLen);
      if (dest < 0) fail(ENOMEM);
    }
    copy.start = dest;
    copy.end = dest + newLen;
    mm.vmas.insert(copy);
    return dest;
  } finally {
    copy.backing?.drop?.(false);
  }
}
