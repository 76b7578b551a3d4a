// The address-space half of fork(2): which VMAs the child gets and how their pages are
// shared. Private pages are shared copy-on-write: write-protected in both spaces until a
// write fault gives the writer its own copy (Pmas.breakCow). Shared memory stays shared,
// MADV_DONTFORK ranges are left out and MADV_WIPEONFORK ones start empty.

import { PROT_NONE, PROT_WRITE } from '../abi/linux/mm';
import type { MemoryManager } from './memory_manager';

/** Give child (fresh, empty) the VMAs and pages of parent. The host side of both address
 *  spaces changes in one batch each (a stub injection per batch, not per run). */
export function forkMappings(parent: MemoryManager, child: MemoryManager): void {
  const as = child.addressSpace;
  const pas = parent.addressSpace;
  pas.beginBatch();
  as.beginBatch();
  try {
    copyVmas(parent, child);
  } finally {
    // The parent's write-protections must reach its stub whatever happened: its table says
    // they are in force. The child's batch goes first only into a child nobody runs yet.
    try {
      pas.endBatch();
    } finally {
      as.endBatch();
    }
  }
}

function copyVmas(parent: MemoryManager, child: MemoryManager): void {
  const as = child.addressSpace;
  for (const v of parent.vmas.all()) {
    if (v.dontFork) continue;
    const c = v.slice(v.start, v.end);
    c.locked = 0; // memory locks are not inherited
    child.vmas.insert(c);
    if (v.backing?.rmap !== undefined) child.joinRmap(v.backing.rmap);
    if (v.ownsPages) {
      parent.mf.incRef(v.offset, v.length);
      if (v.prot !== PROT_NONE) as.map(c.start, c.length, c.offset, child.pmas.hostProt(c));
    } else if (v.shared) {
      // A shared file mapping: the child maps the file's pages on its own faults.
    } else if (v.wipeOnFork) {
      c.cow = false;
    } else {
      // Every time, not just the first: pages copied since an earlier fork are writable again.
      v.cow = true;
      if ((v.prot & PROT_WRITE) !== 0) parent.addressSpace.protect(v.start, v.length, parent.pmas.hostProt(v));
      c.cow = true;
      parent.pmas.copyMappings(v.start, c.start, v.length, child.pmas.hostProt(c), as);
    }
  }
}
