// The address-space half of fork(2): which VMAs the child gets and how their pages are
// shared. Private pages are shared copy-on-write: write-protected in both spaces until a
// write fault gives the writer its own copy (Pmas.breakCow). Shared memory stays shared,
// MADV_DONTFORK ranges are left out and MADV_WIPEONFORK ones start empty.

import { PROT_NONE, PROT_WRITE } from '../abi/linux/mm';
import { forkAnon } from './anon_vma';
import { takeHotPages } from './fork_hot';
import { PAGE_SIZE } from './layout';
import type { MemoryManager } from './memory_manager';
import { effectiveProt, type Vma } from './vma';

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
  const hot = takeHotPages(parent, child);
  for (const v of parent.vmas.all()) {
    if (v.dontFork) continue;
    const c = v.slice(v.start, v.end);
    c.locked = 0; // memory locks are not inherited
    forkAnon(c);
    child.vmas.insert(c);
    if (v.backing?.rmap !== undefined) child.joinRmap(v.backing.rmap);
    if (v.shared) {
      // A shared file mapping (shared anonymous memory too): the child maps the file's pages
      // on its own faults.
    } else if (v.wipeOnFork) {
      c.cow = false;
    } else {
      // Every time, not just the first: pages copied since an earlier fork are writable again.
      v.cow = true;
      c.cow = true;
      const own = hot.filter((p) => p >= v.start && p < v.end && parent.pmas.lookup(p) >= 0);
      if ((v.prot & PROT_WRITE) !== 0) protectExcept(parent, v, own);
      parent.pmas.copyMappings(v.start, c.start, v.length, child.pmas.hostProt(c), as);
      if ((v.prot & PROT_WRITE) !== 0) copyPages(parent, child, c, own);
    }
  }
}

/** Write-protects v in the parent but for `skip` (sorted pages of v): pages the child gets a
 *  copy of are not shared, and keep the protection they have. */
function protectExcept(parent: MemoryManager, v: Vma, skip: readonly number[]): void {
  const prot = parent.pmas.hostProt(v);
  let from = v.start;
  for (const p of skip) {
    if (p > from) parent.addressSpace.protect(from, p - from, prot);
    from = p + PAGE_SIZE;
  }
  if (v.end > from) parent.addressSpace.protect(from, v.end - from, prot);
}

/** Gives the child its own copy of `pages` of c (fork_hot.ts): what breakCow would do at
 *  its first write, done now, in the child's batch. */
function copyPages(parent: MemoryManager, child: MemoryManager, c: Vma, pages: readonly number[]): void {
  if (pages.length === 0) return;
  const mf = child.mf;
  const buf = new Uint8Array(PAGE_SIZE);
  const base = child.allocate(pages.length * PAGE_SIZE);
  try {
    pages.forEach((p, i) => {
      mf.read(parent.pmas.lookup(p), buf);
      mf.write(base + i * PAGE_SIZE, buf);
      child.addressSpace.map(p, PAGE_SIZE, base + i * PAGE_SIZE, effectiveProt(c.prot));
    });
  } finally {
    mf.decRef(base, pages.length * PAGE_SIZE);
  }
}
