// overlay: a writable tmpfs upper layer over a read-only lower layer (Linux overlayfs,
// gVisor fsimpl/overlay). It owns the merge: lookups prefer the upper layer, directories
// present in both are merged, anything changed is first copied up, and deletions of lower
// names leave whiteouts. It does not touch the host (the lower layer is a LowerFS, which
// never writes) nor resolve paths (the VFS does).
//
// Overlay metadata that Linux keeps in xattrs of the upper files lives here, keyed by the
// upper inodes: whiteouts (names of a directory hidden from the lower layer), opaque
// directories (hiding the lower directory of the same name entirely) and origins (the lower
// inode number a copied-up file keeps showing, so that st_ino does not change on copy-up).

import type { Statfs } from '../../abi/linux/fs';
import { FileSystem } from '../../vfs/file_system';
import type { LowerFS } from '../gofer/lower_fs';
import type { TmpfsDir } from '../tmpfs/dir';
import type { TmpfsInode } from '../tmpfs/inode';
import { TmpfsFS } from '../tmpfs/tmpfs';
import { OverlayNode } from './node';
import { InodeIdentities } from '../../vfs/inode_identity';

/** Upper-only files number from here, above any host inode number. */
const UPPER_FIRST_INO = 2 ** 40;

export class OverlayFS extends FileSystem {
  override readonly hostBacked = true;
  override readonly evictDentries = true;
  readonly type = 'overlay';
  readonly upper: TmpfsFS;
  readonly root: OverlayNode;
  private readonly whiteouts = new WeakMap<TmpfsDir, Set<string>>();
  private readonly opaqueDirs = new WeakSet<TmpfsDir>();
  private readonly origins = new WeakMap<TmpfsInode, number>();

  constructor(readonly lower: LowerFS, upperMf: TmpfsFS['mf']) {
    super();
    const attr = lower.root.attr;
    this.upper = new TmpfsFS(upperMf, { firstIno: UPPER_FIRST_INO, rootMode: attr.mode & 0o7777,
      rootUid: attr.uid, rootGid: attr.gid });
    this.origins.set(this.upper.root, attr.ino);
    this.root = new OverlayNode(this, null, '/', this.upper.root, lower.root);
  }

  override get source(): string { return 'overlay'; }

  /** One node per lower file (inode number) for what is per file: a FIFO of the lower layer
   *  is a pipe of the sandbox's own (as overlayfs over any lower: the pipe belongs to the
   *  inode that is opened, never to the host's FIFO), and every open of the same lower file,
   *  by whichever node, meets the same one; its locks are in one table likewise. */
  private readonly identities = new InodeIdentities<number, OverlayNode>();

  canonical(node: OverlayNode): OverlayNode {
    return this.identities.of(node.lower!.attr.ino, node);
  }

  statfs(): Statfs { return this.lower.statfs(); }

  isWhiteout(dir: TmpfsDir | null, name: string): boolean {
    return dir !== null && (this.whiteouts.get(dir)?.has(name) ?? false);
  }

  setWhiteout(dir: TmpfsDir, name: string, on: boolean): void {
    let set = this.whiteouts.get(dir);
    if (on) {
      if (!set) this.whiteouts.set(dir, set = new Set());
      set.add(name);
    } else {
      set?.delete(name);
    }
  }

  isOpaque(dir: TmpfsInode | null): boolean {
    return dir !== null && this.opaqueDirs.has(dir as TmpfsDir);
  }

  setOpaque(dir: TmpfsDir): void { this.opaqueDirs.add(dir); }

  /** st_ino of an upper inode: its origin's if it was copied up. */
  inoOf(upper: TmpfsInode): number { return this.origins.get(upper) ?? upper.ino; }

  setOrigin(upper: TmpfsInode, ino: number): void { this.origins.set(upper, ino); }
}
