// tmpfs: a file system that lives in memory (Linux mm/shmem.c, gVisor fsimpl/tmpfs). It owns
// the directory tree, symlinks, special files and regular-file data kept in memory-file
// pages (so that MAP_SHARED mappings of a file share its pages), and nothing else: no path
// resolution (the VFS's), no permission policy (the VFS checks before calling in), no host
// files. Used for /tmp-like mounts, /dev/shm and as the writable upper layer of the overlay.

import type { NativeMemoryFile } from '../../native/addon';
import type { Statfs } from '../../abi/linux/fs';
import { TMPFS_MAGIC } from '../../abi/linux/fs';
import { S_IFDIR } from '../../abi/linux/stat';
import { FileSystem } from '../../vfs/file_system';
import { TmpfsDir } from './dir';
import { XattrSpace } from '../../vfs/xattr';

/** Bytes of extended attributes one tmpfs may hold. Linux charges them to the inode space
 *  (nr_inodes * 1 KiB); here they live in the sentry's heap, so the budget is smaller. */
const XATTR_SPACE = 64 << 20;

export interface TmpfsOptions {
  /** First inode number (the overlay starts its upper's high, away from host numbers). */
  firstIno?: number;
  /** Root directory permissions (default 01777, as a fresh tmpfs mount). */
  rootMode?: number;
  rootUid?: number;
  rootGid?: number;
}

export class TmpfsFS extends FileSystem {
  readonly type: string = 'tmpfs';
  readonly root: TmpfsDir;
  private nextIno: number;
  readonly xattrSpace = new XattrSpace(XATTR_SPACE);
  /** shmem's xattr handlers (devpts, made of the same inodes, has none). */
  readonly keepsXattrs: boolean = true;

  constructor(readonly mf: NativeMemoryFile, opts: TmpfsOptions = {}) {
    super();
    this.nextIno = opts.firstIno ?? 1;
    this.root = new TmpfsDir(this, S_IFDIR | (opts.rootMode ?? 0o1777), opts.rootUid ?? 0, opts.rootGid ?? 0, null);
  }

  allocIno(): number { return this.nextIno++; }

  statfs(): Statfs {
    const pages = Math.floor(this.mf.allocatedBytes() / 4096);
    const total = 1 << 20; // 4 GiB worth of pages: a figure, tmpfs here has no size limit
    return {
      type: TMPFS_MAGIC, bsize: 4096, blocks: total, bfree: Math.max(0, total - pages),
      bavail: Math.max(0, total - pages), files: 1 << 20, ffree: (1 << 20) - 1, fsid: [0, 0], namelen: 255,
      frsize: 4096, flags: 0,
    };
  }
}
