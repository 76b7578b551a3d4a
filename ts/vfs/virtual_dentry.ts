// VirtualDentry: a place in the mount tree, a (mount, dentry) pair (Linux struct path, gVisor
// vfs.VirtualDentry). Open files, working directories and lookup results are all this.

import type { Dentry } from './dentry';
import type { Mount } from './mount';

export class VirtualDentry {
  constructor(readonly mount: Mount, readonly dentry: Dentry) {}

  get inode() { return this.dentry.inode; }

  equals(o: VirtualDentry): boolean { return this.mount === o.mount && this.dentry === o.dentry; }

  /** Whether root is this place or above it, across mounts (is_path_reachable). */
  reachableFrom(root: VirtualDentry): boolean {
    let mount = this.mount;
    let d = this.dentry;
    for (;;) {
      if (mount === root.mount && d === root.dentry) return true;
      if (d === mount.root) {
        if (!mount.parent || !mount.mountpoint) return false;
        d = mount.mountpoint;
        mount = mount.parent;
        continue;
      }
      if (!d.parent) return false;
      d = d.parent;
    }
  }

  /** Absolute path from root (Linux d_path). Names beyond root's reach (an fd opened before
   *  a chroot) are shown from their own mount tree's top. An unlinked file gets " (deleted)". */
  path(root?: VirtualDentry): string {
    const parts: string[] = [];
    let mount = this.mount;
    let d = this.dentry;
    for (;;) {
      if (root && mount === root.mount && d === root.dentry) break;
      if (d === mount.root) {
        if (!mount.parent || !mount.mountpoint) break;
        d = mount.mountpoint;
        mount = mount.parent;
        continue;
      }
      parts.push(d.name);
      if (!d.parent) break;
      d = d.parent;
    }
    const p = `/${parts.reverse().join('/')}`;
    return this.dentry.deleted ? `${p} (deleted)` : p;
  }
}
