// Mount and MountNamespace (Linux struct mount / mnt_namespace, gVisor vfs.Mount and
// MountNamespace): which file system is attached where. A mount point is a dentry in a
// parent mount; crossing it going down lands on the child mount's root, and '..' from a
// mount's root climbs to the mount point in the parent. Mounts are attached by the sandbox
// at start-up; there is no mount(2) yet. A new mount namespace (CLONE_NEWNS) gets a copy of
// the tree (copy_tree): new Mount objects over the same file systems and dentries.

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
}

export class Mount {
  readonly id = nextMountId++;
  readonly root: Dentry;

  constructor(
    readonly fs: FileSystem,
    rootInode: Inode,
    readonly parent: Mount | null,
    readonly mountpoint: Dentry | null,
    readonly flags: MountFlags = {},
    /** A copy's root is the original's dentry (the same tree seen through another mount). */
    root?: Dentry,
  ) {
    this.root = root ?? new Dentry('/', null, rootInode);
  }

  get readonly(): boolean { return this.flags.readonly === true; }
}

export class MountNamespace {
  readonly root: Mount;
  /** Child mounts by parent mount, then by mount point dentry (the topmost one wins). */
  private readonly children = new Map<Mount, Map<Dentry, Mount>>();
  private readonly all: Mount[] = [];

  constructor(fs: FileSystem, rootInode: Inode, flags: MountFlags = {}, root?: Mount) {
    this.root = root ?? new Mount(fs, rootInode, null, null, flags);
    this.all.push(this.root);
  }

  get rootVd(): VirtualDentry { return new VirtualDentry(this.root, this.root.root); }

  /** Attach fs at vd (a directory). */
  mount(vd: VirtualDentry, fs: FileSystem, rootInode: Inode, flags: MountFlags = {}): Mount {
    if (!vd.dentry.inode.fs.cacheDentries) throw new SyscallError(EBUSY);
    const m = new Mount(fs, rootInode, vd.mount, vd.dentry, flags);
    let byDentry = this.children.get(vd.mount);
    if (!byDentry) this.children.set(vd.mount, byDentry = new Map());
    byDentry.set(vd.dentry, m);
    vd.dentry.mountCount++;
    this.all.push(m);
    return m;
  }

  /** The mount attached at (mount, dentry), if any. */
  mountedAt(mount: Mount, dentry: Dentry): Mount | undefined {
    if (dentry.mountCount === 0) return undefined;
    return this.children.get(mount)?.get(dentry);
  }

  /** Every mount, parents before children (/proc/mounts order). */
  mounts(): readonly Mount[] { return this.all; }

  /** copy_mnt_ns: a namespace with a copy of every mount, and which copy each one got. */
  copy(): { ns: MountNamespace; copies: Map<Mount, Mount> } {
    const copies = new Map<Mount, Mount>();
    const root = this.root;
    const rootCopy = new Mount(root.fs, root.root.inode, null, null, root.flags, root.root);
    copies.set(root, rootCopy);
    const ns = new MountNamespace(root.fs, root.root.inode, root.flags, rootCopy);
    for (const m of this.all) {
      if (m === root || m.parent === null || m.mountpoint === null) continue;
      const parent = copies.get(m.parent);
      if (parent === undefined) continue;
      const c = new Mount(m.fs, m.root.inode, parent, m.mountpoint, m.flags, m.root);
      copies.set(m, c);
      let byDentry = ns.children.get(parent);
      if (!byDentry) ns.children.set(parent, byDentry = new Map());
      byDentry.set(m.mountpoint, c);
      m.mountpoint.mountCount++;
      ns.all.push(c);
    }
    return { ns, copies };
  }
}
