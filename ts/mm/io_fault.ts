// faultForIo: the fault an I/O copy meets in the application's buffer (read(2) into it,
// write(2) from it), served for the whole stretch the copy will go on to touch rather than one
// fault window at a time. Linux faults those pages one by one as copy_to_user reaches them;
// here each fault that maps pages is a trip to the platform (a stub mmap), so a 1 MiB read
// into a fresh buffer took four of them. The caller says where the copy will stop (the bytes
// it will move, bounded by the file's end for a read), so no page past that is taken.

import { PROT_NONE, PROT_RWX, PROT_WRITE } from '../abi/linux/mm';
import { PAGE_SIZE, POPULATE_CHUNK, pageDown, pageUp } from './layout';
import type { MemoryManager } from './memory_manager';
import { protPermits } from './vma';

/** The unmapped pages of [addr, end) in addr's VMA in one fill (at most POPULATE_CHUNK),
 *  then the page at addr as handleFault makes it (its checks, a copy-on-write break, the
 *  memory limit's verdict). False only if addr itself cannot be had. */
export function faultForIo(mm: MemoryManager, addr: number, end: number, access: number): boolean {
  const vma = mm.vmas.find(addr);
  const page = pageDown(addr);
  if (vma !== undefined && vma.prot !== PROT_NONE && protPermits(vma.prot, access & PROT_RWX) && mm.pmas.lookup(page) < 0) {
    const to = Math.min(pageUp(end), vma.end, mm.fileEnd(vma), page + POPULATE_CHUNK);
    // A read into a private file mapping wants the space's own copies (as a write fault
    // makes them), not the page cache's read-only pages it would fault on again. Pages that
    // cannot be had now (the memory limit) are left to handleFault, which says so.
    if (to > page + PAGE_SIZE) mm.populateRange(page, to, (access & PROT_WRITE) !== 0 && !vma.shared, (access & PROT_WRITE) !== 0);
  }
  return mm.handleFault(addr, access);
}
