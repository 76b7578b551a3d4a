// Mount and MountNamespace (Linux struct mount / mnt_namespace, gVisor vfs.Mount and
// MountNamespace): which file system is attached where. A mount point is a dentry in a
// parent mount; crossing it going down lands on the child mount's root, and '..' from a
// mount's root climbs to the mount point in the parent. Mounts are attached by the sandbox
// at start-up and by mount(2) (syscalls/linux/sys_mount.ts): new file systems, bind mounts
// (a mount whose root is a dentry inside another mount's file system), moves, stacking (a
// mount on a mount's root), and their removal. A new mount namespace (CLONE_NEWNS) gets a
// copy of the tree (copy_tree): new Mount objects over the same file systems and dentries,
// private (nothing propagates between namespaces). pivot_root(2) swaps the root mount for
// another (pivot): the namespace's root then has a parent no more, as Linux's real root sits on
// rootfs, which the sandbox does not show.

import { SyscallError } from '../kernel/syscall_error';
import { EBUSY } from '../abi/linux/errno';
import type { FileSystem } from './file_system';
import { Dentry } from './dentry';
import type { Inode } from './inode';
import { VirtualDentry } from './virtual_dentry';

let nextMountId = 20;

export interface MountFlags {
  readonly?: boolean;
  nosuid?: boolean;
  nodev?: boolean;
  noexec?: boolean;
  /** Access-time policy shown in /proc/mounts (relatime unless mount(2) said otherwise). */
  atime?: 'relatime' | 'noatime' | 'strictatime';
  nodiratime?: boolean;
  /** Symlinks on this mount are not followed by path walks (ELOOP); readlink still reads them. */
  nosymfollow?: boolean;
}

/** Mount propagation as recorded by MS_SHARED/PRIVATE/SLAVE/UNBINDABLE (shown in mountinfo). */
export type Propagation = 'private' | 'shared' | 'slave' | 'unbindable';

export class Mount {
  readonly id = nextMountId++;
  readonly root: Dentry;
  /** The source mount(2) named (mnt_devname); the file system's own otherwise. */
  source: string | null = null;
  propagation: Propagation = 'private';

  constructor(
    readonly fs: FileSystem,
    rootInode: Inode,
    public parent: Mount | null,
    public mountpoint: Dentry | null,
    public flags: MountFlags = {},
    /** A bind mount's root: a dentry of another mount of fs (its inode is rootInode). */
    rootDentry?: Dentry,
  ) {
    this.root = rootDentry ?? new Dentry('/', null, rootInode);
  }

  get readonly(): boolean { return this.flags.readonly === true; }

  /** The root's path inside its file system (mountinfo's fourth field: "/" unless a bind). */
  rootPath(): string {
    const parts: string[] = [];
    for (let d: Dentry | null = this.root; d !== null && d.parent !== null; d = d.parent) parts.push(d.name);
    return `/${parts.reverse().join('/')}`;
  }
}

export class MountNamespace {
  private rootMount: Mount;
  /** Child mounts by parent mount, then by mount point dentry (the topmost one wins). */
  private readonly children = new Map<Mount, Map<Dentry, Mount>>();
  private readonly all: Mount[] = [];

  constructor(fs: FileSystem, rootInode: Inode, flags: MountFlags = {}, root?: Mount) {
    this.rootMount = root ?? new Mount(fs, rootInode, null, null, flags);
    this.all.push(this.rootMount);
  }

  /** The mount at "/" (pivot_root changes it). */
  get root(): Mount { return this.rootMount; }

  get rootVd(): VirtualDentry { return new VirtualDentry(this.root, this.root.root); }

  /** Attach fs at vd (a directory), or, with rootDentry, a bind mount of that dentry. */
  mount(vd: VirtualDentry, fs: FileSystem, rootInode: Inode, flags: MountFlags = {}, rootDentry?: Dentry): Mount {
    const m = new Mount(fs, rootInode, vd.mount, vd.dentry, flags, rootDentry);
    this.attach(m, vd);
    return m;
  }

  /** Attach an existing mount (one of a detached tree: mount_tree.ts) at vd. */
  graft(m: Mount, vd: VirtualDentry): void {
    this.attach(m, vd);
  }

  /** Whether m is one of this namespace's mounts. */
  has(m: Mount): boolean { return this.all.includes(m); }

  private attach(m: Mount, vd: VirtualDentry): void {
    this.checkMountable(vd);
    this.hash(m, vd);
    this.all.push(m);
  }

  /** Whether a mount may go at vd: EBUSY where one is already (vd is what a lookup reached,
   *  the topmost mount there, so a new one stacks on its root). */
  private checkMountable(vd: VirtualDentry): void {
    if (this.mountedAt(vd.mount, vd.dentry) !== undefined) throw new SyscallError(EBUSY);
  }

  /** Link m under vd (attach_mnt without the namespace list). */
  private hash(m: Mount, vd: VirtualDentry): void {
    m.parent = vd.mount;
    m.mountpoint = vd.dentry;
    let byDentry = this.children.get(vd.mount);
    if (!byDentry) this.children.set(vd.mount, byDentry = new Map());
    byDentry.set(vd.dentry, m);
    vd.dentry.mountCount++;
    if (!vd.dentry.inode.fs.cacheDentries) vd.dentry.pin(vd.mount.root, 1);
  }

  /** Unlink m from its parent (it stays listed). */
  private unhash(m: Mount): void {
    if (m.parent === null || m.mountpoint === null) return;
    const byDentry = this.children.get(m.parent);
    if (byDentry?.get(m.mountpoint) === m) {
      byDentry.delete(m.mountpoint);
      m.mountpoint.mountCount--;
      if (!m.mountpoint.inode.fs.cacheDentries) m.mountpoint.pin(m.parent.root, -1);
    }
  }

  private detach(m: Mount): void {
    this.unhash(m);
    const i = this.all.indexOf(m);
    if (i >= 0) this.all.splice(i, 1);
  }

  /**
   * pivot_root: newRoot (a mount below oldRoot, checked by the caller) takes oldRoot's place
   * (the namespace's root, or where oldRoot is mounted), and oldRoot goes on putOld, at or
   * below newRoot. Listing order is kept, as Linux keeps its namespace list.
   */
  pivot(oldRoot: Mount, newRoot: Mount, putOld: VirtualDentry): void {
    this.checkMountable(putOld);
    const parent = oldRoot.parent, mountpoint = oldRoot.mountpoint;
    this.unhash(newRoot);
    this.unhash(oldRoot);
    this.hash(oldRoot, putOld);
    if (parent === null || mountpoint === null) {
      newRoot.parent = null;
      newRoot.mountpoint = null;
      this.rootMount = newRoot;
    } else {
      this.hash(newRoot, new VirtualDentry(parent, mountpoint));
    }
  }

  /** The mounts attached directly under m. */
  childrenOf(m: Mount): Mount[] {
    return [...(this.children.get(m)?.values() ?? [])];
  }

  /** m and every mount below it, parents first. */
  subtree(m: Mount): Mount[] {
    const out = [m];
    for (let i = 0; i < out.length; i++) out.push(...this.childrenOf(out[i]));
    return out;
  }

  /** Take m (and, lazily, everything below it) out of the tree. */
  umount(m: Mount): void {
    for (const x of this.subtree(m).reverse()) {
      this.detach(x);
      this.children.delete(x);
    }
  }

  /** MS_MOVE: m leaves its mount point for vd, with everything below it. */
  move(m: Mount, vd: VirtualDentry): void {
    this.detach(m);
    this.attach(m, vd);
    // Its submounts stay attached to it; keep /proc/mounts' parents-first order.
    for (const x of this.subtree(m).slice(1)) {
      const i = this.all.indexOf(x);
      if (i >= 0) { this.all.splice(i, 1); this.all.push(x); }
    }
  }

  /** The mount attached at (mount, dentry), if any. */
  mountedAt(mount: Mount, dentry: Dentry): Mount | undefined {
    if (dentry.mountCount === 0) return undefined;
    return this.children.get(mount)?.get(dentry);
  }

  /** Every mount, parents before children (/proc/mounts order). */
  mounts(): readonly Mount[] { return this.all; }

  /** copy_mnt_ns: a namespace with a copy of every mount (same file systems and dentries, new
   *  ids, private), and which copy each one got. Copied down the tree from the root (after a
   *  pivot_root a parent may be listed after its children), then listed in this order. */
  copy(): { ns: MountNamespace; copies: Map<Mount, Mount> } {
    const copies = new Map<Mount, Mount>();
    const dup = (m: Mount, parent: Mount | null): Mount => {
      const c = new Mount(m.fs, m.root.inode, parent, m.mountpoint, { ...m.flags }, m.root);
      c.source = m.source;
      copies.set(m, c);
      return c;
    };
    const root = this.rootMount;
    const ns = new MountNamespace(root.fs, root.root.inode, root.flags, dup(root, null));
    for (const m of this.subtree(root).slice(1)) {
      const parent = copies.get(m.parent!)!;
      ns.attach(dup(m, parent), new VirtualDentry(parent, m.mountpoint!));
    }
    ns.all.length = 0;
    for (const m of this.all) {
      const c = copies.get(m);
      if (c !== undefined) ns.all.push(c);
    }
    return { ns, copies };
  }
}
