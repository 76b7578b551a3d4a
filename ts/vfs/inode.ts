// Inode: one file of a file system (Linux struct inode + inode_operations). The VFS walks
// names through directory inodes, checks permissions on the mode/uid/gid they report, and
// asks them to open, create, link and remove. Defaults are the Linux answers for a file that
// cannot do the operation (ENOTDIR on a non-directory, EINVAL for readlink of a non-symlink,
// EPERM for making things in a directory that does not allow it).
//
// Directory operations receive names already checked by the VFS (not '.', '..', no '/',
// within NAME_MAX) and the caller's permission already checked; they check only what only
// the file system knows (EEXIST, ENOTEMPTY...).

import type { Task } from '../kernel/task';
import type { Credentials } from '../kernel/credentials';
import { SyscallError } from '../kernel/syscall_error';
import { EINVAL, ENOTDIR, ENOTSUP as EOPNOTSUPP, ENOTTY, EPERM } from '../abi/linux/errno';
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, type Stat, type Timespec } from '../abi/linux/stat';
import type { FileSystem } from './file_system';
import type { FileDescription } from './file_description';
import type { VirtualDentry } from './virtual_dentry';

/** One directory entry as getdents reports it (without '.' and '..'). */
export interface DirEntry {
  name: string;
  ino: number;
  /** DT_* */
  type: number;
}

/** setattr(2)-family changes; undefined fields stay as they are. */
export interface SetAttr {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: Timespec;
  mtime?: Timespec;
}

/** What a magic link (/proc/<pid>/fd/N, /proc/<pid>/cwd) leads to: a place in the tree, or
 *  an open file that has no place (a pipe, a host stdio fd). */
export type MagicTarget = { vd: VirtualDentry } | { file: FileDescription };

export abstract class Inode {
  abstract readonly fs: FileSystem;

  /** Type and permission bits (st_mode). Read on every path component: keep it cheap. */
  abstract get mode(): number;
  abstract get uid(): number;
  abstract get gid(): number;

  abstract stat(): Stat;

  /** d_revalidate: false when the name the VFS cached for this inode no longer leads to it
   *  (a file system whose names can change behind the VFS: the gofer's host trees). ahead:
   *  as for lookup. */
  revalidate(_ahead?: readonly string[]): boolean { return true; }

  /** Its dentry left the cache (dentry_cache.ts): let go of what only speeds up the next use
   *  (a server-side fid). Only on file systems with evictDentries. */
  evicted(): void {}

  /** Identity of the file for fsnotify watches: this object, unless the file system can hand
   *  out several objects for one file (the overlay). */
  notifyKey(): unknown { return this; }

  /** The object that stands for the file in the lock and lease tables (and a FIFO's pipe):
   *  this one, unless the file system hands out several objects for one file (a gofer tree,
   *  per name; the overlay, per node: InodeIdentities). */
  identity(): object { return this; }

  /** A permission the mode bits do not give, asked only after they refused (Linux's
   *  proc_fd_permission: a process may always look in its own fd and map_files). */
  permitsBeyondMode(): boolean { return false; }

  /** FS_IOC_GETFLAGS's flags (inode_flags.ts: immutable, append-only...); 0 where none are kept. */
  get fsFlags(): number { return 0; }
  /** Whether the file system keeps such flags at all (FS_IOC_*FLAGS are ENOTTY elsewhere). */
  get keepsFsFlags(): boolean { return false; }
  /** Store flags already checked by inode_flags.ts (ctime moves). */
  setFsFlags(_flags: number): void { throw new SyscallError(ENOTTY); }

  get isDir(): boolean { return (this.mode & S_IFMT) === S_IFDIR; }
  get isSymlink(): boolean { return (this.mode & S_IFMT) === S_IFLNK; }
  get isRegular(): boolean { return (this.mode & S_IFMT) === S_IFREG; }

  /** Open this file; flags are the open(2) flags, already checked against permissions. */
  abstract open(t: Task | null, vd: VirtualDentry, flags: number): FileDescription;

  /** The file was read, listed or its link followed (touch_atime): a file system that keeps
   *  atime updates it by its mount's rule. */
  accessed(): void { /* no atime kept */ }

  /** chmod/chown/utimes/truncate; the VFS has checked who may. */
  setattr(_attr: SetAttr): void { throw new SyscallError(EPERM); }

  // --- directories ---

  /** The child called name, or null if there is none. ahead, when a path walk asks: the
   *  names it looks up next below the child, last first (a hint: a file system that pays a
   *  round trip per lookup may fetch them together; that array stands for this one walk). */
  lookup(_name: string, _ahead?: readonly string[]): Inode | null { throw new SyscallError(ENOTDIR); }
  /** Every entry but '.' and '..'. */
  iterate(): DirEntry[] { throw new SyscallError(ENOTDIR); }
  /** Inode number of the parent directory, for the '..' entry getdents shows. */
  /** A directory whose lseek is generic_file_llseek (kernfs's, proc's): SEEK_END, SEEK_DATA
   *  and SEEK_HOLE go by this size. Undefined: they are EINVAL (dcache_dir_lseek, tmpfs and
   *  most others). */
  get dirSeekEndSize(): number | undefined { return undefined; }

  parentIno(): number { return this.stat().ino; }

  create(_name: string, _mode: number, _creds: Credentials): Inode { throw new SyscallError(this.isDir ? EPERM : ENOTDIR); }
  mkdir(_name: string, _mode: number, _creds: Credentials): Inode { throw new SyscallError(this.isDir ? EPERM : ENOTDIR); }
  symlink(_name: string, _target: string, _creds: Credentials): Inode { throw new SyscallError(this.isDir ? EPERM : ENOTDIR); }
  mknod(_name: string, _mode: number, _rdev: number, _creds: Credentials): Inode { throw new SyscallError(this.isDir ? EPERM : ENOTDIR); }
  /** O_TMPFILE: a regular file with no name (nlink 0) in this directory's file system;
   *  EOPNOTSUPP where the file system has none (vfs_tmpfile without i_op->tmpfile). */
  tmpfile(_mode: number, _creds: Credentials): Inode { throw new SyscallError(this.isDir ? EOPNOTSUPP : ENOTDIR); }
  /** I_LINKABLE: an O_TMPFILE file opened without O_EXCL, which linkat may give a name
   *  although its link count is 0; the first link clears it. */
  linkable = false;
  /** A new name for `target` (an inode of this same file system). */
  link(_name: string, _target: Inode): Inode { throw new SyscallError(this.isDir ? EPERM : ENOTDIR); }
  unlink(_name: string, _child: Inode): void { throw new SyscallError(this.isDir ? EPERM : ENOTDIR); }
  rmdir(_name: string, _child: Inode): void { throw new SyscallError(this.isDir ? EPERM : ENOTDIR); }
  /** Move name to newDir/newName (same file system), replacing what is there unless flags
   *  say otherwise (RENAME_NOREPLACE, RENAME_EXCHANGE; checked by the VFS already).
   *  RENAME_WHITEOUT (leave a 0:0 character device at the old name, owned as a new file of
   *  creds): EINVAL where the file system cannot. */
  rename(_name: string, _child: Inode, _newDir: Inode, _newName: string, _replaced: Inode | null, _flags: number, _creds?: Credentials): void {
    throw new SyscallError(EPERM);
  }

  // --- extended attributes (the inode's xattr handlers; the VFS has checked the caller) ---

  /** The value of name (a full name, one character per byte); EOPNOTSUPP where the file
   *  system keeps no attributes, ENODATA where this file has none of that name. */
  getxattr(_name: string): Uint8Array { throw new SyscallError(EOPNOTSUPP); }
  /** Set name to value, or remove it (value null); flags: XATTR_CREATE, XATTR_REPLACE. */
  setxattr(_name: string, _value: Uint8Array | null, _flags: number): void { throw new SyscallError(EOPNOTSUPP); }
  /** The names this file has; trusted: the caller may see trusted.* ones. */
  listxattr(_trusted: boolean): string[] { return []; }
  /** IS_POSIXACL and an inode with ACL operations: ACL names are answered (posix_acl.ts). */
  get posixAcl(): boolean { return false; }

  // --- symlinks ---

  /** The target text; t is the caller (null when there is none, as at sandbox start-up):
   *  /proc/self's target depends on who asks. */
  readlink(_t: Task | null): string { throw new SyscallError(EINVAL); }
  /** Magic links jump straight to their target instead of resolving readlink()'s text. */
  magicLink(_t: Task | null): MagicTarget | null { return null; }
}
