// VfsFile: an open file description with a place in the mount tree (Linux struct file's
// f_path). Everything opened through a path is one; fd-based calls that need the file's
// inode or location (fstat, fchmod, fchdir, *at() with a dirfd, /proc/<pid>/fd) go through
// it. Implementations do their I/O on their own inode; stat and attribute changes go to the
// inode the tree shows (an overlay's, not the layer's underneath).

import { SyscallError } from '../kernel/syscall_error';
import { ENODEV, ENOTSUP as EOPNOTSUPP } from '../abi/linux/errno';
import type { Stat } from '../abi/linux/stat';
import type { Statfs } from '../abi/linux/fs';
import { FileDescription } from './file_description';
import type { Inode } from './inode';
import type { VirtualDentry } from './virtual_dentry';
import { fsnotifyClose } from './fsnotify';

export abstract class VfsFile extends FileDescription {
  constructor(flags: number, readonly vd: VirtualDentry) {
    super(flags);
  }

  /** The last close reports IN_CLOSE_* before the file lets go (Linux __fput). */
  override decRef(): void {
    if (this.refCount === 1) fsnotifyClose(this);
    super.decRef();
  }

  /** The inode the tree shows at vd. */
  get inode(): Inode { return this.vd.inode; }

  override stat(): Stat { return this.vd.inode.stat(); }

  statfs(): Statfs { return this.vd.mount.fs.statfs(); }

  override describe(): string { return this.vd.path(); }

  /** fsync/fdatasync: nothing is buffered anywhere but in the file itself. */
  fsync(): void {}

  /** fallocate(2); regular files override. */
  fallocate(_mode: number, _offset: number, _len: number): void {
    throw new SyscallError(this.inode.isRegular ? EOPNOTSUPP : ENODEV);
  }

  /** Current size for FIONREAD/SEEK_END on files that have one. */
  size(): number { return this.stat().size; }
}

/** An O_PATH description: a place, no I/O. */
export class PathFile extends VfsFile {
  override describe(): string { return this.vd.path(); }
}
