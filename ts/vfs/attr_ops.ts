// Attribute changes and checks on a resolved file (Linux fs/attr.c, fs/open.c): chmod, chown,
// utimes, truncate and access. Who may do what is decided here, from the caller's
// credentials; the inode only stores the result.

import type { Credentials } from '../kernel/credentials';
import { SyscallError } from '../kernel/syscall_error';
import { EACCES, EINVAL, EISDIR, EPERM, EROFS } from '../abi/linux/errno';
import { R_OK, W_OK, X_OK } from '../abi/linux/fs';
import { S_IFDIR, S_IFMT, S_IFREG, type Stat, type Timespec } from '../abi/linux/stat';
import { checkWritableMount } from './open';
import { MAY_WRITE, capableWrtInode, checkOwner, checkPermission, inGroup, isOwnerOrCapable, mayAccess } from './permission';
import { CAP_CHOWN, CAP_FSETID } from '../kernel/capabilities';
import type { VirtualDentry } from './virtual_dentry';
import type { Inode, SetAttr } from './inode';
import { now } from './time';
import { fsnotifyChange } from './fsnotify';
import { checkWriteAccess } from './write_access';
import { checkNotPinned, isAppendOnly, isImmutable } from './inode_flags';
import { IN_ACCESS, IN_ATTRIB, IN_MODIFY } from '../abi/linux/inotify';
import { afterChange } from './change_wait';

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;

export function chmod(creds: Credentials, vd: VirtualDentry, mode: number): void {
  const inode = vd.inode;
  checkWritableMount(vd);
  checkNotPinned(inode);
  const next = chmodResult(creds, inode, mode);
  afterChange(() => inode.setattr({ mode: next }), () => fsnotifyChange(vd, IN_ATTRIB));
}

/** The owner, group and mode chmod and chown decide from: an inode's, or a pseudo file's
 *  (a pipe's pipefs inode) that has no dentry. */
export interface OwnedAttrs { readonly uid: number; readonly gid: number; readonly mode: number }

/** chmod_common's checks: the mode a chmod to `mode` gives a file (EPERM for a caller who
 *  is neither its owner nor CAP_FOWNER). */
export function chmodResult(creds: Credentials, cur: OwnedAttrs, mode: number): number {
  if (!isOwnerOrCapable(creds, cur.uid)) throw new SyscallError(EPERM);
  let perm = mode & 0o7777;
  // Not in the file's group: setgid would be a way into it (Linux drops the bit).
  if ((perm & S_ISGID) && !inGroup(creds, cur.gid) && !creds.hasCapability(CAP_FSETID)) perm &= ~S_ISGID;
  return (cur.mode & S_IFMT) | perm;
}

/** uid/gid -1 leave that id alone. */
export function chown(creds: Credentials, vd: VirtualDentry, uid: number, gid: number): void {
  const inode = vd.inode;
  checkWritableMount(vd);
  checkNotPinned(inode);
  const next = chownResult(creds, inode, uid, gid);
  const modeChanged = next.mode !== inode.mode;
  // The mode only when set-id bits went: a symlink has no mode to set (a gofer says EOPNOTSUPP).
  // Linux notify_change: ATTR_UID/ATTR_GID for ids given, ATTR_MODE if set-id bits went.
  afterChange(() => inode.setattr(modeChanged ? next : { uid: next.uid, gid: next.gid }),
    () => { if (uid !== -1 || gid !== -1 || modeChanged) fsnotifyChange(vd, IN_ATTRIB); });
}

/** chown_common's checks: the owner, group and mode a chown gives a file (EPERM when the
 *  caller may not). uid/gid -1 leave that id alone. */
export function chownResult(creds: Credentials, cur: OwnedAttrs, uid: number, gid: number): OwnedAttrs {
  const newUid = uid === -1 ? cur.uid : uid;
  const newGid = gid === -1 ? cur.gid : gid;
  if (!capableWrtInode(creds, CAP_CHOWN, cur.uid, cur.gid)) {
    // Without CAP_CHOWN, an owner may only give the file to one of their groups.
    if (newUid !== cur.uid) throw new SyscallError(EPERM);
    if (newGid !== cur.gid && (creds.fsuid !== cur.uid || !inGroup(creds, newGid))) throw new SyscallError(EPERM);
    if (creds.fsuid !== cur.uid && (uid !== -1 || gid !== -1)) throw new SyscallError(EPERM);
  }
  let mode = cur.mode;
  // Anything but a directory loses set-user-ID (even to root, even for a chown to -1:-1),
  // and set-group-ID as setattr_should_drop_sgid says (group-executable, or the caller
  // outside the group without CAP_FSETID).
  if ((mode & S_IFMT) !== S_IFDIR) mode &= ~(S_ISUID | sgidToDrop(creds, cur));
  return { uid: newUid, gid: newGid, mode };
}

/** utimensat: a time that is only "now" needs write access or ownership; any other
 *  explicit time needs ownership. undefined leaves a time alone. */
export function utimes(creds: Credentials, vd: VirtualDentry, atime: Timespec | undefined, mtime: Timespec | undefined,
  onlyNow: boolean): void {
  const inode = vd.inode;
  checkWritableMount(vd);
  // notify_change: explicit times never on an immutable or append-only file; "now" (ATTR_TOUCH)
  // never on an immutable one.
  if (onlyNow) {
    if (isImmutable(inode)) throw new SyscallError(EPERM);
    if (!isOwnerOrCapable(creds, inode.uid)) {
      try { checkPermission(creds, inode, MAY_WRITE); } catch { throw new SyscallError(EACCES); }
    }
  } else {
    checkNotPinned(inode);
    checkOwner(creds, inode);
  }
  // Linux fsnotify_change: both times is a utimes, one alone an access or a modification.
  afterChange(() => inode.setattr({ atime, mtime }),
    () => fsnotifyChange(vd, atime && mtime ? IN_ATTRIB : atime ? IN_ACCESS : mtime ? IN_MODIFY : 0));
}

/** setattr_should_drop_suidgid (Linux 6.2+): the set-id bits a write or truncate by creds
 *  takes off a regular file: set-user-ID always, set-group-ID if group-executable or the
 *  writer is not in the group; none for a writer with CAP_FSETID. */
function suidgidToDrop(creds: Credentials, inode: Inode): number {
  const mode = inode.mode;
  if ((mode & (S_ISUID | S_ISGID)) === 0 || (mode & S_IFMT) !== S_IFREG) return 0;
  const drop = (mode & S_ISUID) | sgidToDrop(creds, inode);
  return drop !== 0 && !creds.hasCapability(CAP_FSETID) ? drop : 0;
}

/** setattr_should_drop_sgid: S_ISGID when set on a group-executable file, or when creds are
 *  outside its group without CAP_FSETID (without group-execute it is a locking mark). */
function sgidToDrop(creds: Credentials, inode: OwnedAttrs): number {
  const mode = inode.mode;
  if ((mode & S_ISGID) === 0) return 0;
  if (mode & 0o010) return S_ISGID;
  return inGroup(creds, inode.gid) || creds.hasCapability(CAP_FSETID) ? 0 : S_ISGID;
}

/** file_remove_privs before a write: the set-id bits go (an attribute change, IN_ATTRIB). */
export function removePrivs(creds: Credentials, vd: VirtualDentry): void {
  const drop = suidgidToDrop(creds, vd.inode);
  if (drop === 0) return;
  afterChange(() => vd.inode.setattr({ mode: vd.inode.mode & 0o7777 & ~drop }), () => fsnotifyChange(vd, IN_ATTRIB));
}

/** do_truncate: the new size, and the set-id bits a write would drop. */
/** do_truncate. ftruncate (and an O_TRUNC open) also ask for ATTR_MTIME | ATTR_CTIME, so the
 *  times move even when the size does not; truncate(2) leaves that to the file system. */
export function setSize(creds: Credentials, vd: VirtualDentry, length: number, touch = false): void {
  const drop = suidgidToDrop(creds, vd.inode);
  const attrs: SetAttr = { size: length };
  if (touch) attrs.mtime = now();
  if (drop !== 0) attrs.mode = vd.inode.mode & 0o7777 & ~drop;
  afterChange(() => vd.inode.setattr(attrs), () => fsnotifyChange(vd, IN_MODIFY));
}

/** truncate(2) by path (ftruncate checks the open mode instead). */
/** vfs_truncate's checks, before the lease break: type, read-only mount, permission, and
 *  not a running program. */
export function checkTruncate(creds: Credentials, vd: VirtualDentry): void {
  const inode = vd.inode;
  if (inode.isDir) throw new SyscallError(EISDIR);
  if (!inode.isRegular) throw new SyscallError(EINVAL);
  checkWritableMount(vd);
  checkPermission(creds, inode, MAY_WRITE);
  if (isAppendOnly(inode)) throw new SyscallError(EPERM);
  checkWriteAccess(inode);
}

export function truncate(creds: Credentials, vd: VirtualDentry, length: number): void {
  if (length < 0) throw new SyscallError(EINVAL);
  checkTruncate(creds, vd);
  setSize(creds, vd, length);
}

/** access(2)'s R_OK|W_OK|X_OK against an owner and mode: EACCES if not all are granted. */
function checkAccess(creds: Credentials, mode: number, uid: number, gid: number, isDir: boolean, amode: number): void {
  const want = ((amode & R_OK) ? 4 : 0) | ((amode & W_OK) ? 2 : 0) | ((amode & X_OK) ? 1 : 0);
  if (!mayAccess(creds, mode, uid, gid, isDir, want)) throw new SyscallError(EACCES);
}

/** access(2) on an open file with no place in the tree, by its stat. */
export function accessStat(creds: Credentials, st: Stat, amode: number): void {
  if (amode === 0) return;
  checkAccess(creds, st.mode, st.uid, st.gid, (st.mode & S_IFMT) === S_IFDIR, amode);
}

/** access(2)/faccessat (do_faccessat): mode is R_OK|W_OK|X_OK or F_OK (0). X_OK on a regular
 *  file of a noexec mount is EACCES; W_OK of a regular file, directory or link on a read-only
 *  mount is EROFS before the permission bits are looked at (inode_permission's sb_rdonly). */
export function access(creds: Credentials, vd: VirtualDentry, mode: number): void {
  if (mode === 0) return;
  const inode = vd.inode;
  if ((mode & X_OK) && inode.isRegular && vd.mount.flags.noexec) throw new SyscallError(EACCES);
  if ((mode & W_OK) && vd.mount.readonly) {
    try { checkWritableMount(vd); } catch { throw new SyscallError(EROFS); }
  }
  if ((mode & W_OK) && isImmutable(inode)) throw new SyscallError(EPERM);
  checkAccess(creds, inode.mode, inode.uid, inode.gid, inode.isDir, mode);
}
