// access_remote_vm with FOLL_FORCE: reading and writing another address space as ptrace and
// /proc/<pid>/mem do. Only the VMAs count (nothing outside the application's range, never
// the platform's stub pages); protections do not, except that a shared mapping that may
// never be written stays unwritten. A private page written here gets its own copy first, so
// neither a fork relative nor the file underneath sees the write.

import { ACCESS_READ } from '../native/addon';
import { PROT_NONE } from '../abi/linux/mm';
import { PAGE_SIZE, pageDown } from './layout';
import type { MemoryManager } from './memory_manager';
import type { Vma } from './vma';

/** The memory-file offset backing the page at `page` of vma, populating it if need be;
 *  -1 if it cannot be had (past the end of a file, no memory). */
function pageOffset(mm: MemoryManager, vma: Vma, page: number): number {
  let off = mm.pmas.lookup(page);
  if (off >= 0) return off;
  if (page >= mm.fileEnd(vma)) return -1;
  if (vma.prot !== PROT_NONE) {
    if (!mm.handleFault(page, ACCESS_READ)) return -1;
    off = mm.pmas.lookup(page);
    return off;
  }
  // PROT_NONE: nothing is mapped there for the application; serve the page's contents
  // without mapping it (read fresh from the file, or zeros).
  return -2;
}

/** Copy [addr, +dst.length) out of mm; returns the bytes copied before the first hole. */
export function readRemote(mm: MemoryManager, addr: number, dst: Uint8Array): number {
  let done = 0;
  while (done < dst.length) {
    const at = addr + done;
    const vma = at >= mm.minAddr && at < mm.maxAddr ? mm.vmas.find(at) : undefined;
    if (vma === undefined) break;
    const page = pageDown(at);
    const n = Math.min(dst.length - done, page + PAGE_SIZE - at);
    const off = pageOffset(mm, vma, page);
    if (off === -1) break;
    const chunk = dst.subarray(done, done + n);
    if (off >= 0) {
      mm.mf.read(off + (at - page), chunk);
    } else if (vma.backing !== null) {
      // A PROT_NONE file page: fill a scratch page from the file.
      const tmp = mm.allocate(PAGE_SIZE);
      try {
        vma.backing.fill(mm.mf, vma.offsetAt(page), tmp, PAGE_SIZE);
        mm.mf.read(tmp + (at - page), chunk);
      } finally {
        mm.mf.decRef(tmp, PAGE_SIZE);
      }
    } else {
      chunk.fill(0);
    }
    done += n;
  }
  return done;
}

/** Copy src into mm at addr; returns the bytes written before the first hole. */
export function writeRemote(mm: MemoryManager, addr: number, src: Uint8Array): number {
  let done = 0;
  while (done < src.length) {
    const at = addr + done;
    const vma = at >= mm.minAddr && at < mm.maxAddr ? mm.vmas.find(at) : undefined;
    if (vma === undefined || (vma.shared && !vma.mayWriteShared)) break;
    // No page to put the bytes in; FOLL_FORCE writes a PROT_NONE page only of private memory,
    // which has none either until it faults.
    if (vma.prot === PROT_NONE) break;
    const page = pageDown(at);
    const n = Math.min(src.length - done, page + PAGE_SIZE - at);
    let off = pageOffset(mm, vma, page);
    if (off < 0) break;
    if (!vma.shared) {
      mm.pmas.breakCow(vma, page, off);
      off = mm.pmas.lookup(page);
      if (off < 0) break;
    }
    mm.mf.write(off + (at - page), src.subarray(done, done + n));
    done += n;
  }
  return done;
}
