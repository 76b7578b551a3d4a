// Dentry: a name in the tree (Linux struct dentry): its inode, its parent and, for file
// systems that allow it, the children looked up so far. The cache is kept exact by the VFS
// itself (every create, unlink and rename goes through it); only an inode whose file system
// can change behind the VFS (the gofer's) may say its name is stale (Inode.revalidate). On
// file systems that allow it, unused leaves are pruned past a bound (dentry_cache.ts), and a
// pruned dentry still held somewhere is found again by its name. A dentry of a file system
// without caching lives only as long as someone holds it. An unlinked dentry stays valid for whoever holds it (an open file, a cwd) but is
// `deleted`.

import type { Inode } from './inode';
import { dentryCache } from './dentry_cache';

/** Pruned dentries whose objects are collected: their names leave the parent's weak map. */
const collected = new FinalizationRegistry<{ parent: WeakRef<Dentry>; name: string }>(({ parent, name }) => {
  const p = parent.deref();
  if (p?.pruned?.get(name)?.deref() === undefined) p?.pruned?.delete(name);
});

export class Dentry {
  private children: Map<string, Dentry> | null = null;
  /** Children the cache let go (evict) that may still be held somewhere (dentry_cache.ts). */
  pruned: Map<string, WeakRef<Dentry>> | null = null;
  /** Mounts whose mount point this is (see MountNamespace). */
  mountCount = 0;
  /** Open files through this name: like Linux's dentry references, they put off the end of
   *  an unlinked file (its IN_DELETE_SELF) until the last one closes. */
  openCount = 0;
  deleted = false;
  /** Mounts at or below this name on a file system that keeps no dentries (proc): while
   *  there are any it stays in its parent's cache, so the mount point is found again. */
  pins = 0;

  constructor(public name: string, public parent: Dentry | null, public inode: Inode) {}

  /** The child called name, looked up through the cache or the directory inode; ahead as
   *  for Inode.lookup. */
  lookup(name: string, ahead?: readonly string[]): Dentry | null {
    const cached = this.children?.get(name) ?? this.revive(name);
    if (cached) {
      // A mount point keeps its dentry; any other stale name is looked up again.
      if (cached.mountCount > 0 || cached.pins > 0 || cached.inode.revalidate(ahead)) {
        dentryCache.touch(cached);
        return cached;
      }
      this.removed(name);
    }
    const inode = this.inode.lookup(name, ahead);
    if (!inode) return null;
    const d = new Dentry(name, this, inode);
    if (this.inode.fs.cacheDentries) this.cache(d);
    return d;
  }

  /** d goes into this directory's cache under its name. */
  private cache(d: Dentry): void {
    (this.children ??= new Map()).set(d.name, d);
    dentryCache.forget(this);
    dentryCache.touch(d);
  }

  hasChildren(): boolean { return this.children !== null && this.children.size > 0; }

  /** The cache lets child go (dentry_cache.ts): the next lookup of its name finds it again
   *  while it is alive, and its inode lets go of what it holds on the server. */
  evict(child: Dentry): void {
    if (this.children?.get(child.name) !== child) return;
    this.children.delete(child.name);
    (this.pruned ??= new Map()).set(child.name, new WeakRef(child));
    collected.register(child, { parent: new WeakRef(this), name: child.name });
    child.inode.evicted();
    this.becameLeaf();
  }

  /** A pruned child called name that is still alive, back in the cache. */
  private revive(name: string): Dentry | null {
    const d = this.pruned?.get(name)?.deref();
    if (d === undefined) return null;
    this.pruned!.delete(name);
    this.cache(d);
    return d;
  }

  /** This directory's last cached child went: it is a leaf the cache may let go. */
  private becameLeaf(): void {
    if (this.children?.size === 0 && this.parent?.children?.get(this.name) === this) dentryCache.touch(this);
  }

  /** Drops child from the cache (removed, moved, exchanged). */
  private uncache(child: Dentry): void {
    if (this.children?.get(child.name) !== child) return;
    this.children.delete(child.name);
    dentryCache.forget(child);
    this.becameLeaf();
  }

  /** A mount goes on (delta 1) or leaves (-1) this name of a file system without a dentry
   *  cache: this name and those above it, up to the mount's root `top`, are kept cached. */
  pin(top: Dentry, delta: 1 | -1): void {
    for (let d: Dentry = this; d !== top && d.parent !== null; d = d.parent) {
      d.pins += delta;
      const p = d.parent;
      if (d.pins > 0) (p.children ??= new Map()).set(d.name, d);
      else if (!p.inode.fs.cacheDentries && p.children?.get(d.name) === d) p.children.delete(d.name);
    }
  }

  /** A child just created under this name. */
  added(name: string, inode: Inode): Dentry {
    this.revive(name);
    const d = new Dentry(name, this, inode);
    if (this.inode.fs.cacheDentries) this.cache(d);
    return d;
  }

  /** The child called name is gone. */
  removed(name: string): void {
    const d = this.children?.get(name) ?? this.revive(name);
    if (!d) return;
    d.deleted = true;
    this.uncache(d);
  }

  /** rename: child moves from this directory to newParent/newName, replacing what was there. */
  moved(child: Dentry, newParent: Dentry, newName: string): void {
    this.uncache(child);
    newParent.removed(newName);
    child.name = newName;
    child.parent = newParent;
    if (newParent.inode.fs.cacheDentries) newParent.cache(child);
  }

  /** RENAME_EXCHANGE: a and b swap places. */
  static exchanged(a: Dentry, b: Dentry): void {
    const pa = a.parent!, pb = b.parent!;
    const na = a.name, nb = b.name;
    pa.uncache(a);
    pb.uncache(b);
    a.parent = pb; a.name = nb;
    b.parent = pa; b.name = na;
    if (pb.inode.fs.cacheDentries) pb.cache(a);
    if (pa.inode.fs.cacheDentries) pa.cache(b);
  }

  /** Is this an ancestor of (or the same as) d? (rename's loop check) */
  isAncestorOf(d: Dentry): boolean {
    for (let p: Dentry | null = d; p; p = p.parent) if (p === this) return true;
    return false;
  }
}
