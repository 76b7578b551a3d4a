// Inode attribute flags (Linux fs/ioctl.c FS_IOC_GETFLAGS/FS_IOC_SETFLAGS, fs/file_attr.c, and
// shmem's fileattr): the flags a file system keeps (tmpfs: immutable, append-only, nodump,
// noatime), who may change them, and the rules immutable and append-only files follow in the
// VFS (IS_IMMUTABLE, IS_APPEND): no write permission at all for an immutable file, only
// appending opens for an append-only one, neither may be removed, renamed, linked to, or
// have their mode, owner, times or extended attributes changed.

import type { Credentials } from '../kernel/credentials';
import type { Task } from '../kernel/task';
import { SyscallError } from '../kernel/syscall_error';
import { ENOTSUP as EOPNOTSUPP, EPERM, ENOTTY } from '../abi/linux/errno';
import { CAP_LINUX_IMMUTABLE } from '../kernel/capabilities';
import type { Inode } from './inode';
import { checkOwner } from './permission';
import { checkWritableMount } from './open';
import type { VirtualDentry } from './virtual_dentry';
import { fsnotifyChange } from './fsnotify';
import { IN_ATTRIB } from '../abi/linux/inotify';

export const FS_IOC_GETFLAGS = 0x80086601, FS_IOC_SETFLAGS = 0x40086602;
export const FS_IMMUTABLE_FL = 0x10, FS_APPEND_FL = 0x20, FS_NODUMP_FL = 0x40, FS_NOATIME_FL = 0x80;
/** SHMEM_FL_USER_MODIFIABLE (Linux 6.1). */
export const TMPFS_SETTABLE_FLAGS = FS_IMMUTABLE_FL | FS_APPEND_FL | FS_NODUMP_FL | FS_NOATIME_FL;

export function isImmutable(inode: Inode): boolean { return (inode.fsFlags & FS_IMMUTABLE_FL) !== 0; }
export function isAppendOnly(inode: Inode): boolean { return (inode.fsFlags & FS_APPEND_FL) !== 0; }

/** notify_change, vfs_setxattr, vfs_link: neither an immutable nor an append-only file may
 *  have its mode, owner, explicit times or extended attributes changed, nor a new name. */
export function checkNotPinned(inode: Inode): void {
  if ((inode.fsFlags & (FS_IMMUTABLE_FL | FS_APPEND_FL)) !== 0) throw new SyscallError(EPERM);
}

/** may_delete's part: an append-only directory keeps its entries; an immutable or append-only
 *  file keeps its name. */
export function checkDeletable(dir: Inode, child: Inode): void {
  if (isAppendOnly(dir)) throw new SyscallError(EPERM);
  checkNotPinned(child);
}

/** may_open: an append-only file is opened for writing only with O_APPEND, never truncated. */
export function checkAppendOnlyOpen(inode: Inode, writing: boolean, append: boolean, trunc: boolean): void {
  if (!isAppendOnly(inode)) return;
  if ((writing && !append) || trunc) throw new SyscallError(EPERM);
}

/** FS_IOC_GETFLAGS: the flags as an int; ENOTTY where the file system keeps none. */
export function ioctlGetFlags(t: Task, vd: VirtualDentry, arg: number): number {
  if (!vd.inode.keepsFsFlags) throw new SyscallError(ENOTTY);
  t.mm.writeI32(arg, vd.inode.fsFlags);
  return 0;
}

/** FS_IOC_SETFLAGS (ioctl_setflags, vfs_fileattr_set): a writable mount, the owner (or
 *  CAP_FOWNER), CAP_LINUX_IMMUTABLE to change immutable or append-only, and only the flags
 *  the file system keeps (EOPNOTSUPP for others). */
export function ioctlSetFlags(t: Task, vd: VirtualDentry, arg: number): number {
  if (!vd.inode.keepsFsFlags) throw new SyscallError(ENOTTY);
  const flags = t.mm.readI32(arg) >>> 0;
  const inode = vd.inode;
  checkWritableMount(vd);
  checkOwner(t.creds, inode);
  checkFlagChange(t.creds, inode.fsFlags, flags);
  if ((flags & ~TMPFS_SETTABLE_FLAGS) !== 0) throw new SyscallError(EOPNOTSUPP);
  inode.setFsFlags(flags);
  fsnotifyChange(vd, IN_ATTRIB);
  return 0;
}

/** fileattr_set_prepare: immutable and append-only come and go only with CAP_LINUX_IMMUTABLE. */
function checkFlagChange(creds: Credentials, old: number, next: number): void {
  if (((old ^ next) & (FS_IMMUTABLE_FL | FS_APPEND_FL)) !== 0 && !creds.hasCapability(CAP_LINUX_IMMUTABLE)) {
    throw new SyscallError(EPERM);
  }
}
