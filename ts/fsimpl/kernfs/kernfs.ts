// kernfs: building blocks for file systems whose files are made up by the sentry (proc, sys,
// dev), like Linux kernfs and gVisor's fsimpl/kernfs: directories listing children from a
// source, files whose contents are generated when opened, symlinks (magic or not), device
// nodes. Inode numbers are stable per name (inoFor), so tools that compare st_ino across
// lookups (find, fts) see the same file each time. It owns no policy of its own.

import type { Statfs } from '../../abi/linux/fs';
import { FileSystem } from '../../vfs/file_system';
import { SimpleXattrs, XattrSpace } from '../../vfs/xattr';

/** Bytes of trusted.* and security.* attributes one kernfs instance holds. */
const XATTR_SPACE = 1 << 20;

export class KernFS extends FileSystem {
  private readonly inos = new Map<string, number>();
  private nextIno = 1;

  /** How lseek treats this file system's generated files: 'seq' (proc: seq_lseek,
   *  SEEK_SET/SEEK_CUR only) or 'size' (SEEK_END relative to the generated contents). */
  seekKind: 'seq' | 'size' = 'size';

  /** kernfs_xattr_handlers (sysfs has them; proc, built the same way here, has none):
   *  attributes per inode number, since inodes may be made anew on each lookup. */
  readonly xattrs: Map<number, SimpleXattrs> | null;
  private readonly xattrSpace: XattrSpace | null;

  constructor(readonly type: string, private readonly magic: number, override readonly cacheDentries: boolean,
    opts: { xattrs?: boolean } = {}) {
    super();
    this.xattrs = opts.xattrs ? new Map() : null;
    this.xattrSpace = opts.xattrs ? new XattrSpace(XATTR_SPACE) : null;
  }

  /** The attributes of inode ino (made on the first set). */
  xattrsOf(ino: number, create: boolean): SimpleXattrs | undefined {
    let x = this.xattrs?.get(ino);
    if (!x && create && this.xattrs) this.xattrs.set(ino, x = new SimpleXattrs(this.xattrSpace));
    return x;
  }

  /** The inode number for key (a path-like name), the same every time. */
  inoFor(key: string): number {
    let ino = this.inos.get(key);
    if (ino === undefined) this.inos.set(key, ino = this.nextIno++);
    return ino;
  }

  statfs(): Statfs {
    return { type: this.magic, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, fsid: [0, 0],
      namelen: 255, frsize: 4096, flags: 0 };
  }
}
