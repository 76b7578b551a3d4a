// TmpfsInode: what every tmpfs file has (Linux shmem inode): number, mode, owners, link
// count and times, and the setattr that changes them. Subclasses add their contents.

import type { Credentials } from '../../kernel/credentials';
import { S_IFDIR, S_IFMT, type Stat, type Timespec } from '../../abi/linux/stat';
import { Inode, type SetAttr } from '../../vfs/inode';
import { now } from '../../vfs/time';
import { SyscallError } from '../../kernel/syscall_error';
import { ENODATA } from '../../abi/linux/errno';
import {
  SimpleXattrs, XATTR_SECURITY_PREFIX, XATTR_TRUSTED_PREFIX, XATTR_NAME_CAPS, XATTR_USER_PREFIX, resolveXattrName,
} from '../../vfs/xattr';
import type { TmpfsFS } from './tmpfs';

const RELATIME_SECS = 24 * 60 * 60;

/** The namespaces shmem's xattr handlers take. */
const XATTR_PREFIXES = [XATTR_SECURITY_PREFIX, XATTR_TRUSTED_PREFIX, XATTR_USER_PREFIX];

function after(a: Timespec, b: Timespec): boolean {
  return a.sec > b.sec || (a.sec === b.sec && a.nsec > b.nsec);
}

export abstract class TmpfsInode extends Inode {
  readonly ino: number;
  nlink = 1;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
  readonly btime: Timespec;

  constructor(readonly fs: TmpfsFS, protected _mode: number, protected _uid: number, protected _gid: number) {
    super();
    fs.reserveInode();
    this.ino = fs.allocIno();
    const t = now();
    this.atime = t; this.mtime = t; this.ctime = t; this.btime = t;
  }

  private _fsFlags = 0;
  override get fsFlags(): number { return this._fsFlags; }
  override get keepsFsFlags(): boolean { return true; }
  override setFsFlags(flags: number): void {
    this._fsFlags = flags;
    this.ctime = now();
  }

  get mode(): number { return this._mode; }
  get uid(): number { return this._uid; }
  get gid(): number { return this._gid; }

  /** Bytes of content (st_size). */
  abstract get size(): number;
  /** 512-byte blocks in use (st_blocks). */
  get blocks(): number { return Math.ceil(this.size / 512); }
  get rdev(): number { return 0; }

  stat(): Stat {
    return {
      dev: this.fs.dev, ino: this.ino, mode: this._mode, nlink: this.nlink, uid: this._uid, gid: this._gid,
      rdev: this.rdev, size: this.size, blksize: 4096, blocks: this.blocks,
      atime: this.atime, mtime: this.mtime, ctime: this.ctime, btime: this.btime,
    };
  }

  override setattr(a: SetAttr): void {
    // A truncation or an owner change (chown with -1s too) drops the file capability
    // (ATTR_KILL_PRIV, which chown sets for all but directories).
    if ((a.size !== undefined || a.uid !== undefined || a.gid !== undefined) && !this.isDir) this.killPriv();
    if (a.mode !== undefined) this._mode = (this._mode & S_IFMT) | (a.mode & 0o7777);
    if (a.uid !== undefined) this._uid = a.uid;
    if (a.gid !== undefined) this._gid = a.gid;
    if (a.size !== undefined) this.truncate(a.size);
    if (a.atime) this.atime = a.atime;
    if (a.mtime) this.mtime = a.mtime;
    this.ctime = now();
  }

  /** Extended attributes, made on the first one set. */
  private xattrs: SimpleXattrs | null = null;

  /** Symlinks have no ACL operations (shmem_symlink_inode_operations). */
  override get posixAcl(): boolean { return this.fs.keepsXattrs && !this.isSymlink; }

  override getxattr(name: string): Uint8Array {
    if (!this.fs.keepsXattrs) return super.getxattr(name);
    resolveXattrName(name, XATTR_PREFIXES);
    if (!this.xattrs) throw new SyscallError(ENODATA);
    return this.xattrs.get(name);
  }

  /** shmem_xattr_handler_set: the value is charged to the file system's space; ctime moves. */
  override setxattr(name: string, value: Uint8Array | null, flags: number): void {
    if (!this.fs.keepsXattrs) return super.setxattr(name, value, flags);
    resolveXattrName(name, XATTR_PREFIXES);
    this.xattrs ??= new SimpleXattrs(this.fs.xattrSpace);
    this.xattrs.set(name, value, flags);
    this.ctime = now();
  }

  override listxattr(trusted: boolean): string[] { return this.xattrs?.list(trusted) ?? []; }

  /** cap_inode_killpriv: a write, truncation or owner change drops the file capability. */
  killPriv(): void {
    if (this.xattrs?.has(XATTR_NAME_CAPS)) this.xattrs.set(XATTR_NAME_CAPS, null, 0);
  }

  /** The inode is gone for good: its attributes give their space back. */
  freeXattrs(): void {
    this.xattrs?.clear();
  }

  /** Regular files override; the VFS lets only them get here. */
  protected truncate(_size: number): void {}

  /** relatime (Linux's default, tmpfs's too): the atime moves only if it is not newer than
   *  mtime or ctime, or is a day old (relatime_need_update). ctime stays. */
  override accessed(): void {
    const a = this.atime;
    const t = now();
    if (after(a, this.mtime) && after(a, this.ctime) && t.sec - a.sec < RELATIME_SECS) return;
    this.atime = t;
  }

  /** Contents changed: mtime and ctime. */
  modified(): void {
    const t = now();
    this.mtime = t;
    this.ctime = t;
  }

  /** A link is gone (unlink, or rename over it): an extra hard link gives its inode charge
   *  back at once (shmem_unlink), the last one when the inode goes (released()). */
  dropLink(): void {
    this.nlink--;
    this.ctime = now();
    if (this.nlink > 0) this.fs.freeInode();
    else this.released();
  }

  /** The inode is gone from the file system (shmem_evict_inode): its charges and attributes
   *  go back. Regular files wait for their last open file and mapping (they override). */
  released(): void {
    this.fs.freeInode();
    this.freeXattrs();
  }
}

export { newOwner } from '../../vfs/new_owner';
