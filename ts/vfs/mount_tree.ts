// Mount trees outside any namespace (Linux's anonymous mount namespaces): what fsmount(2) and
// open_tree(OPEN_TREE_CLONE) return until move_mount(2) attaches them, and the copy of a tree
// a bind mount makes (copy_tree). A detached mount is usable through its descriptor (paths
// below it resolve; no walk crosses into its submounts until it is attached). Nothing here
// touches a namespace but graftTree.

import { Mount, type MountNamespace } from './mount';
import type { Dentry } from './dentry';
import { VirtualDentry } from './virtual_dentry';

/** A submount of a detached tree and where it goes once the tree is attached. */
interface DetachedKid { m: Mount; parent: Mount; mountpoint: Dentry }

/** The root of each detached tree, with its submounts parents first. */
const detached = new WeakMap<Mount, DetachedKid[]>();

/** A new detached tree of one mount (fsmount). */
export function detachedMount(m: Mount): Mount {
  detached.set(m, []);
  return m;
}

export function isDetached(m: Mount): boolean { return detached.has(m); }

/** m and its submounts, parents first, whether m is attached in ns or the root of a
 *  detached tree. */
export function treeOf(ns: MountNamespace, m: Mount): Mount[] {
  const kids = detached.get(m);
  return kids === undefined ? ns.subtree(m) : [m, ...kids.map((k) => k.m)];
}

/**
 * copy_tree: a detached copy of the mount tree at `from` (a bind of from.dentry; with recurse,
 * the mounts below it too, except unbindable ones, each where it sits below the new root, as
 * the tree is now: a bind of / onto a directory below would otherwise copy itself for ever).
 */
export function cloneTree(ns: MountNamespace, from: VirtualDentry, recurse: boolean): Mount {
  const copy = (src: Mount, root: Dentry): Mount => {
    const m = new Mount(src.fs, root.inode, null, null, { ...src.flags }, root);
    m.source = src.source;
    return m;
  };
  const top = copy(from.mount, from.dentry);
  const kids: DetachedKid[] = [];
  const below = (orig: Mount, origRoot: Dentry, dest: Mount): void => {
    for (const c of ns.childrenOf(orig)) {
      if (c.mountpoint === null || c.propagation === 'unbindable' || !origRoot.isAncestorOf(c.mountpoint)) continue;
      const m = copy(c, c.root);
      kids.push({ m, parent: dest, mountpoint: c.mountpoint });
      below(c, c.root, m);
    }
  };
  if (recurse && !isDetached(from.mount)) below(from.mount, from.dentry, top);
  detached.set(top, kids);
  return top;
}

/** Attach a detached tree at vd (move_mount, or a bind mount's copy); it is detached no more. */
export function graftTree(ns: MountNamespace, root: Mount, vd: VirtualDentry): void {
  const kids = detached.get(root) ?? [];
  ns.graft(root, vd);
  for (const k of kids) ns.graft(k.m, new VirtualDentry(k.parent, k.mountpoint));
  detached.delete(root);
}
