// madvise(2). Only a few pieces of advice change what the application can observe:
// DONTNEED/FREE drop pages (private memory reads back as zero or as the file again; shared
// memory keeps its contents), REMOVE punches a hole in what a shared mapping maps, the fork
// flags, and the POPULATE ones. The rest are hints, accepted and ignored as Linux may. The
// advice a kernel built without KSM and memory-failure injection refuses is EINVAL, as /sys
// shows no KSM.

import {
  MADV_COLD, MADV_COLLAPSE, MADV_DODUMP, MADV_DOFORK, MADV_DONTDUMP, MADV_DONTFORK, MADV_DONTNEED,
  MADV_DONTNEED_LOCKED, MADV_FREE, MADV_HUGEPAGE, MADV_KEEPONFORK,
  MADV_NOHUGEPAGE, MADV_NORMAL, MADV_PAGEOUT, MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_RANDOM,
  MADV_REMOVE, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_WIPEONFORK,
  PROT_READ, PROT_WRITE,
} from '../abi/linux/mm';
import { EACCES, EFAULT, EINVAL, ENOMEM, ENOTSUP } from '../abi/linux/errno';
import { fail } from '../kernel/syscall_error';
import { isPageAligned, pageUp } from './layout';
import type { MemoryManager } from './memory_manager';
import { protPermits, type Vma } from './vma';

const HINTS = new Set([
  MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED,
  MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_COLD, MADV_PAGEOUT, MADV_COLLAPSE,
]);


export function madvise(mm: MemoryManager, addr: number, length: number, advice: number): void {
  const known = HINTS.has(advice) || advice === MADV_DONTNEED || advice === MADV_DONTNEED_LOCKED ||
    advice === MADV_FREE || advice === MADV_REMOVE || advice === MADV_DONTFORK || advice === MADV_DOFORK ||
    advice === MADV_WIPEONFORK || advice === MADV_KEEPONFORK || advice === MADV_DONTDUMP || advice === MADV_DODUMP ||
    advice === MADV_POPULATE_READ ||
    advice === MADV_POPULATE_WRITE;
  if (!known || !isPageAligned(addr)) fail(EINVAL);
  const len = pageUp(length);
  if (!Number.isSafeInteger(len)) fail(EINVAL);
  if (len === 0) return;
  const end = addr + len;
  // A range that wraps past the top of the address space is EINVAL; one past the last user
  // address, ENOMEM.
  if (end >= 2 ** 64) fail(EINVAL);
  if (end > mm.maxAddr) fail(ENOMEM);
  const hole = !mm.vmas.isCovered(addr, end);

  if (HINTS.has(advice)) {
    // Accepted as they are; only an unmapped hole is an error.
  } else if (advice === MADV_DONTFORK || advice === MADV_DOFORK || advice === MADV_WIPEONFORK ||
    advice === MADV_KEEPONFORK || advice === MADV_DONTDUMP || advice === MADV_DODUMP) {
    setVmaFlags(mm, addr, end, advice);
  } else {
    for (const v of mm.vmas.overlapping(addr, end)) {
      applyToPages(mm, v, Math.max(addr, v.start), Math.min(end, v.end), advice);
    }
  }
  if (hole) fail(ENOMEM);
}

function applyToPages(mm: MemoryManager, v: Vma, start: number, end: number, advice: number): void {
  switch (advice) {
    case MADV_FREE:
      if (!v.anonymous || v.shared || v.locked !== 0) fail(EINVAL);
      // Linux may drop such pages whenever it likes; dropping now is one of its choices.
      mm.addressSpace.unmap(start, end - start);
      return;
    case MADV_DONTNEED:
      // madvise_dontneed_free_valid_vma: locked pages stay unless the advice says otherwise.
      if (v.locked !== 0) fail(EINVAL);
      mm.addressSpace.unmap(start, end - start);
      return;
    case MADV_DONTNEED_LOCKED:
      // The next touch faults in a zero page (private anonymous), the file's page again
      // (private file), or the very same page (shared: the Vma or the file still has it).
      mm.addressSpace.unmap(start, end - start);
      return;
    case MADV_REMOVE:
      // madvise_remove: not on locked memory nor on private anonymous memory (no file); the
      // mapping must be shared and allowed to write; then the file punches the hole.
      if (v.locked !== 0 || (v.anonymous && !v.shared)) fail(EINVAL);
      if (!v.mayWriteShared) fail(EACCES);
      if (v.backing?.punchHole === undefined) fail(ENOTSUP);
      v.backing.punchHole(v.offsetAt(start), end - start);
      return;
    case MADV_POPULATE_READ:
    case MADV_POPULATE_WRITE:
      if (!protPermits(v.prot, advice === MADV_POPULATE_WRITE ? PROT_WRITE : PROT_READ)) fail(EFAULT);
      if (!mm.populateRange(start, end, false, advice === MADV_POPULATE_WRITE)) fail(EFAULT);
      return;
  }
}

/** madvise_update_vma's flag advice: fork behaviour (VM_DONTCOPY, VM_WIPEONFORK) and whether
 *  a core dump holds the range (VM_DONTDUMP). */
function setVmaFlags(mm: MemoryManager, start: number, end: number, advice: number): void {
  if (advice === MADV_WIPEONFORK) {
    for (const v of mm.vmas.overlapping(start, end)) if (!v.anonymous || v.shared) fail(EINVAL);
  }
  // The special mappings (VM_SPECIAL: [vvar], [vdso]) keep their VM_DONTDUMP setting.
  if (advice === MADV_DODUMP) {
    for (const v of mm.vmas.overlapping(start, end)) if (v.backing?.special === true) fail(EINVAL);
  }
  mm.vmas.split(start);
  mm.vmas.split(end);
  for (const v of mm.vmas.overlapping(start, end)) {
    if (advice === MADV_DONTFORK) v.dontFork = true;
    else if (advice === MADV_DOFORK) v.dontFork = false;
    else if (advice === MADV_WIPEONFORK) v.wipeOnFork = true;
    else if (advice === MADV_KEEPONFORK) v.wipeOnFork = false;
    else v.dontDump = advice === MADV_DONTDUMP;
  }
  mm.vmas.mergeAround(start, end);
}
