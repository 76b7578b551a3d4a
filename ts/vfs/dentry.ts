// Dentry: a name in the tree (Linux struct dentry): its inode, its parent and, for file
// systems that allow it, the children looked up so far. The cache is kept exact by the VFS
// itself (every create, unlink and rename goes through it); only an inode whose file system
// can change behind the VFS (the gofer's) may say its name is stale (Inode.revalidate). It
// is never pruned, which keeps dentries stable as mount points and working
// directories. A dentry of a file system without caching lives only as long as someone holds
// it. An unlinked dentry stays valid for whoever holds it (an open file, a cwd) but is
// `deleted`.

import type { Inode } from './inode';

export class Dentry {
  private children: Map<string, Dentry> | null = null;
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
    const cached = this.children?.get(name);
    if (cached) {
      // A mount point keeps its dentry; any other stale name is looked up again.
      if (cached.mountCount > 0 || cached.pins > 0 || cached.inode.revalidate(ahead)) return cached;
      this.removed(name);
    }
    const inode = this.inode.lookup(name, ahead);
    if (!inode) return null;
    const d = new Dentry(name, this, inode);
    if (this.inode.fs.cacheDentries) (this.children ??= new Map()).set(name, d);
    return d;
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
    const d = new Dentry(name, this, inode);
    if (this.inode.fs.cacheDentries) (this.children ??= new Map()).set(name, d);
    return d;
  }

  /** The child called name is gone. */
  removed(name: string): void {
    const d = this.children?.get(name);
    if (!d) return;
    d.deleted = true;
    this.children?.delete(name);
  }

  /** rename: child moves from this directory to newParent/newName, replacing what was there. */
  moved(child: Dentry, newParent: Dentry, newName: string): void {
    if (this.children?.get(child.name) === child) this.children.delete(child.name);
    newParent.removed(newName);
    child.name = newName;
    child.parent = newParent;
    if (newParent.inode.fs.cacheDentries) (newParent.children ??= new Map()).set(newName, child);
  }

  /** RENAME_EXCHANGE: a and b swap places. */
  static exchanged(a: Dentry, b: Dentry): void {
    const pa = a.parent!, pb = b.parent!;
    const na = a.name, nb = b.name;
    pa.children?.delete(na);
    pb.children?.delete(nb);
    a.parent = pb; a.name = nb;
    b.parent = pa; b.name = na;
    if (pb.inode.fs.cacheDentries) (pb.children ??= new Map()).set(nb, a);
    if (pa.inode.fs.cacheDentries) (pa.children ??= new Map()).set(na, b);
  }

  /** Is this an ancestor of (or the same as) d? (rename's loop check) */
  isAncestorOf(d: Dentry): boolean {
    for (let p: Dentry | null = d; p; p = p.parent) if (p === this) return true;
    return false;
  }
}
