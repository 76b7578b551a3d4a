// KInode: attributes every kernfs file shares, fixed at creation (owner, mode, a stable
// inode number, times), with chmod/chown/utimes refused (EPERM) as on Linux's proc.

import type { Stat, Timespec } from '../../abi/linux/stat';
import { Inode } from '../../vfs/inode';
import { now } from '../../vfs/time';
import { SyscallError } from '../../kernel/syscall_error';
import { ENODATA, ENOTSUP as EOPNOTSUPP } from '../../abi/linux/errno';
import { XATTR_SECURITY_PREFIX, XATTR_TRUSTED_PREFIX, XATTR_USER_PREFIX, resolveXattrName } from '../../vfs/xattr';
import type { KernFS } from './kernfs';

export interface KAttr {
  uid?: number;
  gid?: number;
}

const bootTime = now();

const XATTR_PREFIXES = [XATTR_SECURITY_PREFIX, XATTR_TRUSTED_PREFIX, XATTR_USER_PREFIX];

export abstract class KInode extends Inode {
  readonly ino: number;
  protected readonly owner: { uid: number; gid: number };

  constructor(readonly fs: KernFS, key: string, protected readonly _mode: number, attr: KAttr = {}) {
    super();
    this.ino = fs.inoFor(key);
    this.owner = { uid: attr.uid ?? 0, gid: attr.gid ?? 0 };
  }

  get mode(): number { return this._mode; }
  get uid(): number { return this.owner.uid; }
  get gid(): number { return this.owner.gid; }

  protected get size(): number { return 0; }
  protected get rdev(): number { return 0; }
  protected get nlink(): number { return 1; }
  protected get time(): Timespec { return bootTime; }

  /** kernfs_vfs_xattr_get: none of a name is ENODATA, user.* included. */
  override getxattr(name: string): Uint8Array {
    if (!this.fs.xattrs) return super.getxattr(name);
    resolveXattrName(name, XATTR_PREFIXES);
    const x = this.fs.xattrsOf(this.ino, false);
    if (!x) throw new SyscallError(ENODATA);
    return x.get(name);
  }

  /** user.* only where the root allows it (cgroupfs; not sysfs). */
  override setxattr(name: string, value: Uint8Array | null, flags: number): void {
    if (!this.fs.xattrs) return super.setxattr(name, value, flags);
    resolveXattrName(name, XATTR_PREFIXES);
    if (name.startsWith(XATTR_USER_PREFIX)) throw new SyscallError(EOPNOTSUPP);
    this.fs.xattrsOf(this.ino, true)!.set(name, value, flags);
  }

  override listxattr(trusted: boolean): string[] { return this.fs.xattrsOf(this.ino, false)?.list(trusted) ?? []; }

  stat(): Stat {
    const t = this.time;
    return {
      dev: this.fs.dev, ino: this.ino, mode: this._mode, nlink: this.nlink, uid: this.owner.uid,
      gid: this.owner.gid, rdev: this.rdev, size: this.size, blksize: 4096, blocks: 0, atime: t, mtime: t, ctime: t,
    };
  }
}
