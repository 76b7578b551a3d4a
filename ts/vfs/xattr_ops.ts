// Extended-attribute operations on a resolved file (Linux fs/xattr.c's vfs_* half): who may
// read or change which namespace (xattr_permission, the capability module's
// cap_inode_setxattr/removexattr), the file capability's conversion, POSIX ACL names sent to
// posix_acl.ts, the mount's writability, then the file's own handlers. The syscall layer
// (sys_xattr.ts) reads the arguments and copies the results out.

import { checkNotPinned } from './inode_flags';
import type { Credentials } from '../kernel/credentials';
import { fail } from '../kernel/syscall_error';
import { EACCES, ENODATA, ENOTSUP as EOPNOTSUPP, EPERM, EROFS } from '../abi/linux/errno';
import { S_IFDIR, S_IFMT, S_IFREG } from '../abi/linux/stat';
import { CAP_SETFCAP, CAP_SYS_ADMIN } from '../kernel/capabilities';
import { IN_ATTRIB } from '../abi/linux/inotify';
import type { Inode } from './inode';
import type { VirtualDentry } from './virtual_dentry';
import { MAY_READ, MAY_WRITE, capableWrtInode, isOwnerOrCapable, mayAccess } from './permission';
import { fsnotifyChange } from './fsnotify';
import { getPosixAcl, setPosixAcl } from './posix_acl';
import {
  XATTR_NAME_CAPS, XATTR_REPLACE, XATTR_SECURITY_PREFIX, XATTR_SYSTEM_PREFIX, XATTR_TRUSTED_PREFIX, XATTR_USER_PREFIX,
  isPosixAclName, type XattrHandlers,
} from './xattr';
import { capConvertNscap, capGetSecurity } from './xattr_caps';

/** The file a call acts on: its place in the tree, or only its mode and owner. */
export interface XattrTarget {
  vd: VirtualDentry | null;
  inode: Inode | null;
  /** Its xattr handlers: the inode's, a pseudo file system's (sockfs), or none. */
  xattrs: XattrHandlers | null;
  mode: number;
  uid: number;
  gid: number;
}

export const capableSysAdmin = (creds: Credentials): boolean => creds.hasCapability(CAP_SYS_ADMIN);

/** xattr_permission: trusted.* is for CAP_SYS_ADMIN only; user.* only on regular files and
 *  directories, and in a sticky directory only for its owner; security.* and system.* are
 *  left to the capability module and the file system; the rest need the file's permission. */
function xattrPermission(creds: Credentials, x: XattrTarget, name: string, mask: number): void {
  const write = (mask & MAY_WRITE) !== 0;
  if (name.startsWith(XATTR_SECURITY_PREFIX) || name.startsWith(XATTR_SYSTEM_PREFIX)) return;
  if (name.startsWith(XATTR_TRUSTED_PREFIX)) {
    if (!capableSysAdmin(creds)) fail(write ? EPERM : ENODATA);
    return;
  }
  const type = x.mode & S_IFMT;
  if (name.startsWith(XATTR_USER_PREFIX)) {
    if (type !== S_IFREG && type !== S_IFDIR) fail(write ? EPERM : ENODATA);
    if (type === S_IFDIR && (x.mode & 0o1000) && write && !isOwnerOrCapable(creds, x.uid)) fail(EPERM);
  }
  if (!mayAccess(creds, x.mode, x.uid, x.gid, type === S_IFDIR, mask)) fail(EACCES);
}

/** cap_inode_setxattr / cap_inode_removexattr: security.* needs CAP_SYS_ADMIN, except the
 *  file capability, which needs CAP_SETFCAP over the file's owner (checked when converting
 *  the value on set). */
function capInodeChange(creds: Credentials, x: XattrTarget, name: string, removing: boolean): void {
  if (!name.startsWith(XATTR_SECURITY_PREFIX)) return;
  if (name === XATTR_NAME_CAPS) {
    if (removing && !capableWrtInode(creds, CAP_SETFCAP, x.uid, x.gid)) fail(EPERM);
    return;
  }
  if (!capableSysAdmin(creds)) fail(EPERM);
}

function handlers(x: XattrTarget): XattrHandlers {
  return x.xattrs ?? fail(EOPNOTSUPP);
}

/** vfs_getxattr: the value (a file capability as the caller's namespace sees it). */
export function vfsGetxattr(creds: Credentials, x: XattrTarget, name: string): Uint8Array {
  if (isPosixAclName(name)) getPosixAcl(x.inode);
  xattrPermission(creds, x, name, MAY_READ);
  const value = handlers(x).getxattr(name);
  return name === XATTR_NAME_CAPS ? capGetSecurity(creds, value) : value;
}

/** vfs_listxattr: the names (trusted.* only for CAP_SYS_ADMIN). */
export function vfsListxattr(creds: Credentials, x: XattrTarget): string[] {
  return x.xattrs ? x.xattrs.listxattr(capableSysAdmin(creds)) : [];
}

function changed(x: XattrTarget): void {
  if (x.vd) fsnotifyChange(x.vd, IN_ATTRIB);
}

/** mnt_want_write, then do_set_acl or vfs_setxattr (a file capability's value, even an
 *  empty one, checked and converted first). */
export function vfsSetxattr(creds: Credentials, x: XattrTarget, name: string, value: Uint8Array, flags: number): void {
  if (x.vd?.mount.readonly) fail(EROFS);
  // may_write_xattr: not on an immutable or append-only file.
  if (x.inode !== null) checkNotPinned(x.inode);
  if (isPosixAclName(name)) {
    setPosixAcl(creds, x.inode, name, value.length > 0 ? value : null);
  } else {
    if (name === XATTR_NAME_CAPS) value = capConvertNscap(creds, x.uid, x.gid, value);
    xattrPermission(creds, x, name, MAY_WRITE);
    capInodeChange(creds, x, name, false);
    handlers(x).setxattr(name, value, flags);
  }
  changed(x);
}

/** mnt_want_write, then vfs_remove_acl or vfs_removexattr. */
export function vfsRemovexattr(creds: Credentials, x: XattrTarget, name: string): void {
  if (x.vd?.mount.readonly) fail(EROFS);
  // may_write_xattr: not on an immutable or append-only file.
  if (x.inode !== null) checkNotPinned(x.inode);
  if (isPosixAclName(name)) {
    setPosixAcl(creds, x.inode, name, null);
  } else {
    xattrPermission(creds, x, name, MAY_WRITE);
    capInodeChange(creds, x, name, true);
    handlers(x).setxattr(name, null, XATTR_REPLACE);
  }
  changed(x);
}
