// InodeIdentities: one object per file, for a file system that hands out several inode objects
// for one file (a gofer tree makes one per name it walks, so hard links and names looked up
// again get their own; the overlay one per node). Whatever must be per file, not per object
// (a FIFO's pipe, the lock and lease tables: Inode.identity()), keys on the first live object
// asked for under the file's key (a qid path, a lower inode number). An entry goes when its
// object is collected: every open of every file asks (leases count opens), and a map that
// kept them would grow with every file a program ever opened.

export class InodeIdentities<K, T extends object> {
  private readonly byKey = new Map<K, WeakRef<T>>();
  private readonly collected = new FinalizationRegistry<K>((key) => {
    if (this.byKey.get(key)?.deref() === undefined) this.byKey.delete(key);
  });

  /** The object standing for the file at key: the one kept, unless it is `stale` (the file it
   *  stood for is gone, and the key may name another now), else `candidate`. */
  of(key: K, candidate: T, stale: (kept: T) => boolean = () => false): T {
    const kept = this.byKey.get(key)?.deref();
    if (kept !== undefined && (kept === candidate || !stale(kept))) return kept;
    this.byKey.set(key, new WeakRef(candidate));
    this.collected.register(candidate, key);
    return candidate;
  }
}
