// The bound on cached dentries (Linux's dcache LRU and its shrinker, gVisor's
// maxCachedDentries): file systems whose inodes can be made again from their backing store
// (FileSystem.evictDentries: the gofer's trees and the overlay over one) keep at most
// MAX_CACHED_DENTRIES leaf dentries; past that, the least recently used one that nobody holds
// (no open file, no mount, no cached child) leaves its parent's cache. A dentry held by what
// the VFS does not count (a working directory, a file handle's lookup) may still be alive:
// its parent keeps a weak reference to it, so the next lookup of the name finds that same
// dentry again and never makes a second one beside it. A collected one is simply gone.

import type { Dentry } from './dentry';

function limitFromEnv(): number {
  const v = Number(process.env.TSVISOR_MAX_CACHED_DENTRIES);
  return Number.isInteger(v) && v > 0 ? v : 10_000;
}

export class DentryCache {
  /** Cached leaves of evictable file systems, least recently used first. */
  private readonly lru = new Set<Dentry>();

  constructor(public limit = limitFromEnv()) {}

  get size(): number { return this.lru.size; }

  /** d was looked up (or added) and is in its parent's cache: most recently used now. */
  touch(d: Dentry): void {
    if (!d.inode.fs.evictDentries) return;
    this.lru.delete(d);
    this.lru.add(d);
    if (this.lru.size > this.limit) this.shrink();
  }

  /** d left its parent's cache (removed, moved, evicted) or got a child: not a leaf here. */
  forget(d: Dentry): void { this.lru.delete(d); }

  private shrink(): void {
    for (const d of this.lru) {
      if (this.lru.size <= this.limit) return;
      this.lru.delete(d);
      // Not evictable now: it is found again when it is a leaf nobody holds (touch).
      if (d.mountCount > 0 || d.pins > 0 || d.openCount > 0 || d.hasChildren()) continue;
      d.parent?.evict(d);
    }
  }
}

/** The sentry's one dentry cache (one kernel per sentry process). */
export const dentryCache = new DentryCache();
