// Extended attributes (Linux fs/xattr.c): the checks every file system shares, in Linux's
// order (flags and name, then the value, then the file; the mount, the namespace's rule
// (xattr_permission), the capability module's (cap_inode_setxattr)), then the file system's
// own store (Inode.getxattr/setxattr/listxattr). A file with no place in the tree keeps no
// attributes, but for a socket's system.sockprotoname (sockfs).

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { E2BIG, EACCES, EBADF, EINVAL, ENODATA, ENOTSUP as EOPNOTSUPP, EPERM, ERANGE, EROFS } from '../../abi/linux/errno';
import { AT_FDCWD, O_PATH } from '../../abi/linux/fcntl';
import { S_IFDIR, S_IFMT, S_IFREG } from '../../abi/linux/stat';
import { CAP_SETFCAP, CAP_SYS_ADMIN } from '../../kernel/capabilities';
import {
  SYS_fgetxattr, SYS_flistxattr, SYS_fremovexattr, SYS_fsetxattr, SYS_getxattr, SYS_lgetxattr, SYS_listxattr,
  SYS_llistxattr, SYS_lremovexattr, SYS_lsetxattr, SYS_removexattr, SYS_setxattr,
} from '../../abi/linux/syscall_numbers';
import type { Inode } from '../../vfs/inode';
import { PAGE_SIZE } from '../../mm/layout';
import { locate, type Located } from '../../vfs/lookup';
import { MAY_READ, MAY_WRITE, capableWrtInode, isOwnerOrCapable, mayAccess } from '../../vfs/permission';
import { VfsFile } from '../../vfs/vfs_file';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import { fsnotifyChange } from '../../vfs/fsnotify';
import { IN_ATTRIB } from '../../abi/linux/inotify';
import {
  XATTR_CREATE, XATTR_LIST_MAX, XATTR_NAME_CAPS, XATTR_NAME_MAX, XATTR_REPLACE, XATTR_SECURITY_PREFIX, XATTR_SIZE_MAX,
  XATTR_SYSTEM_PREFIX, XATTR_TRUSTED_PREFIX, XATTR_USER_PREFIX, isPosixAclName, type XattrHandlers,
} from '../../vfs/xattr';
import { Socket } from '../../net/socket';
import { sockfsXattrs } from '../../net/sock_xattr';
import { getPosixAcl, setPosixAcl } from '../../vfs/posix_acl';
import { capGetSecurity, capConvertNscap } from '../../vfs/xattr_caps';
import type { SyscallArgs, SyscallTable } from './types';
import { getFile } from './fd_util';
import { copyInPath } from './path';

/** The file a call acts on: its place in the tree, or only its mode and owner. */
interface Target {
  vd: VirtualDentry | null;
  inode: Inode | null;
  /** Its xattr handlers: the inode's, a socket's, or none (EOPNOTSUPP). */
  xattrs: XattrHandlers | null;
  mode: number;
  uid: number;
  gid: number;
}

function targetOf(l: Located): Target {
  if (l.vd) {
    const inode = l.vd.inode;
    return { vd: l.vd, inode, xattrs: inode, mode: inode.mode, uid: inode.uid, gid: inode.gid };
  }
  const f = l.file!;
  const st = f.stat();
  const xattrs = f instanceof Socket ? sockfsXattrs(f) : null;
  return { vd: null, inode: null, xattrs, mode: st.mode, uid: st.uid, gid: st.gid };
}

function pathTarget(t: Task, addr: number, follow: boolean): Target {
  return targetOf(locate(t, AT_FDCWD, copyInPath(t, addr), follow));
}

/** The file of an f*xattr call: an fd that is not O_PATH. Linux 6.13+ runs the ones that
 *  became *xattrat(fd, NULL, AT_EMPTY_PATH) with AT_FDCWD naming the working directory;
 *  flistxattr still takes a descriptor only. */
function fdTarget(t: Task, fd: number, cwdToo: boolean): Target {
  if (cwdToo && fd === AT_FDCWD) return targetOf(locate(t, AT_FDCWD, '', true, true));
  const f = getFile(t, fd);
  if (f.flags & O_PATH) fail(EBADF);
  return targetOf(f instanceof VfsFile ? { vd: f.vd, file: f } : { vd: null, file: f });
}

/** import_xattr_name: up to XATTR_NAME_MAX bytes and a NUL, read before the file is looked
 *  up; empty or too long is ERANGE. One character per byte ('latin1'). */
function importName(t: Task, addr: number): string {
  const buf = new Uint8Array(XATTR_NAME_MAX + 1);
  let got = 0;
  // A page at a time, so that a name just before an unreadable page is fine.
  while (got < buf.length) {
    const n = Math.min(buf.length - got, PAGE_SIZE - ((addr + got) % PAGE_SIZE));
    const chunk = buf.subarray(got, got + n);
    t.mm.copyInto(addr + got, chunk);
    const nul = chunk.indexOf(0);
    if (nul >= 0) { got += nul; break; }
    got += n;
  }
  if (got === 0 || got > XATTR_NAME_MAX) fail(ERANGE);
  return Buffer.from(buf.buffer, 0, got).toString('latin1');
}

const capableSysAdmin = (t: Task): boolean => t.creds.hasCapability(CAP_SYS_ADMIN);

/** xattr_permission: trusted.* is for CAP_SYS_ADMIN only; user.* only on regular files and
 *  directories, and in a sticky directory only for its owner; security.* and system.* are
 *  left to the capability module and the file system; the rest need the file's permission. */
function xattrPermission(t: Task, x: Target, name: string, mask: number): void {
  const write = (mask & MAY_WRITE) !== 0;
  if (name.startsWith(XATTR_SECURITY_PREFIX) || name.startsWith(XATTR_SYSTEM_PREFIX)) return;
  if (name.startsWith(XATTR_TRUSTED_PREFIX)) {
    if (!capableSysAdmin(t)) fail(write ? EPERM : ENODATA);
    return;
  }
  if (name.startsWith(XATTR_USER_PREFIX)) {
    const type = x.mode & S_IFMT;
    if (type !== S_IFREG && type !== S_IFDIR) fail(write ? EPERM : ENODATA);
    if (type === S_IFDIR && (x.mode & 0o1000) && write && !isOwnerOrCapable(t.creds, x.uid)) fail(EPERM);
  }
  if (!mayAccess(t.creds, x.mode, x.uid, x.gid, (x.mode & S_IFMT) === S_IFDIR, mask)) fail(EACCES);
}

/** cap_inode_setxattr / cap_inode_removexattr: security.* needs CAP_SYS_ADMIN, except the
 *  file capability, which needs CAP_SETFCAP over the file's owner (checked when converting
 *  the value on set). */
function capInodeChange(t: Task, x: Target, name: string, removing: boolean): void {
  if (!name.startsWith(XATTR_SECURITY_PREFIX)) return;
  if (name === XATTR_NAME_CAPS) {
    if (removing && !capableWrtInode(t.creds, CAP_SETFCAP, x.uid, x.gid)) fail(EPERM);
    return;
  }
  if (!capableSysAdmin(t)) fail(EPERM);
}

function mntWantWrite(x: Target): void {
  if (x.vd?.mount.readonly) fail(EROFS);
}

/** vfs_getxattr, then do_getxattr's copy-out: size 0 asks for the length. */
function getxattr(t: Task, x: Target, name: string, valueAddr: number, size: number): number {
  if (isPosixAclName(name)) getPosixAcl(x.inode);
  xattrPermission(t, x, name, MAY_READ);
  if (!x.xattrs) fail(EOPNOTSUPP);
  let value = x.xattrs.getxattr(name);
  if (name === XATTR_NAME_CAPS) value = capGetSecurity(t.creds, value);
  const room = Math.min(size, XATTR_SIZE_MAX);
  if (room === 0) return value.length;
  if (value.length > room) fail(room >= XATTR_SIZE_MAX ? E2BIG : ERANGE);
  t.mm.copyOut(valueAddr, value);
  return value.length;
}

/** vfs_listxattr, then listxattr's copy-out. */
function listxattr(t: Task, x: Target, listAddr: number, size: number): number {
  const names = x.xattrs ? x.xattrs.listxattr(capableSysAdmin(t)) : [];
  const list = Buffer.from(names.map((n) => `${n}\0`).join(''), 'latin1');
  const room = Math.min(size, XATTR_LIST_MAX);
  if (room === 0) return list.length;
  if (list.length > room) fail(room >= XATTR_LIST_MAX ? E2BIG : ERANGE);
  t.mm.copyOut(listAddr, list);
  return list.length;
}

/** The name, flags and value of a set call (setxattr_copy), all read before the file. */
interface SetCtx { name: string; value: Uint8Array; flags: number }

function setxattrCopy(t: Task, nameAddr: number, valueAddr: number, size: number, flags: number): SetCtx {
  if ((flags & ~(XATTR_CREATE | XATTR_REPLACE)) !== 0) fail(EINVAL);
  const name = importName(t, nameAddr);
  if (size > XATTR_SIZE_MAX) fail(E2BIG);
  const value = size > 0 ? t.mm.copyIn(valueAddr, size) : new Uint8Array(0);
  return { name, value, flags };
}

/** vfs_setxattr (a file capability's value, even an empty one, checked and converted first). */
function setxattr(t: Task, x: Target, c: SetCtx): number {
  mntWantWrite(x);
  if (isPosixAclName(c.name)) return setAcl(t, x, c.name, c.value.length > 0 ? c.value : null);
  let value = c.value;
  if (c.name === XATTR_NAME_CAPS) value = capConvertNscap(t.creds, x.uid, x.gid, value);
  xattrPermission(t, x, c.name, MAY_WRITE);
  capInodeChange(t, x, c.name, false);
  if (!x.xattrs) fail(EOPNOTSUPP);
  x.xattrs.setxattr(c.name, value, c.flags);
  if (x.vd) fsnotifyChange(x.vd, IN_ATTRIB);
  return 0;
}

/** do_set_acl / vfs_remove_acl. */
function setAcl(t: Task, x: Target, name: string, value: Uint8Array | null): number {
  setPosixAcl(t.creds, x.inode, name, value);
  if (x.vd) fsnotifyChange(x.vd, IN_ATTRIB);
  return 0;
}

/** vfs_removexattr. */
function removexattr(t: Task, x: Target, name: string): number {
  mntWantWrite(x);
  if (isPosixAclName(name)) return setAcl(t, x, name, null);
  xattrPermission(t, x, name, MAY_WRITE);
  capInodeChange(t, x, name, true);
  if (!x.xattrs) fail(EOPNOTSUPP);
  x.xattrs.setxattr(name, null, XATTR_REPLACE);
  if (x.vd) fsnotifyChange(x.vd, IN_ATTRIB);
  return 0;
}

export function registerXattr(table: SyscallTable): void {
  const pathGet = (follow: boolean) => (t: Task, a: SyscallArgs): number => {
    const name = importName(t, a.ptr(1));
    return getxattr(t, pathTarget(t, a.ptr(0), follow), name, a.ptr(2), a.size(3));
  };
  const pathList = (follow: boolean) => (t: Task, a: SyscallArgs): number =>
    listxattr(t, pathTarget(t, a.ptr(0), follow), a.ptr(1), a.size(2));
  const pathSet = (follow: boolean) => (t: Task, a: SyscallArgs): number => {
    const c = setxattrCopy(t, a.ptr(1), a.ptr(2), a.size(3), a.int(4));
    return setxattr(t, pathTarget(t, a.ptr(0), follow), c);
  };
  const pathRemove = (follow: boolean) => (t: Task, a: SyscallArgs): number => {
    const name = importName(t, a.ptr(1));
    return removexattr(t, pathTarget(t, a.ptr(0), follow), name);
  };
  const path = ['path', 'ptr', 'ptr', 'size'] as const;
  const fdArgs = ['fd', 'ptr', 'ptr', 'size'] as const;
  table[SYS_getxattr] = { name: 'getxattr', handler: pathGet(true), args: [...path] };
  table[SYS_lgetxattr] = { name: 'lgetxattr', handler: pathGet(false), args: [...path] };
  table[SYS_fgetxattr] = {
    name: 'fgetxattr', args: [...fdArgs],
    handler: (t, a) => { const n = importName(t, a.ptr(1)); return getxattr(t, fdTarget(t, a.int(0), true), n, a.ptr(2), a.size(3)); },
  };
  table[SYS_listxattr] = { name: 'listxattr', handler: pathList(true), args: ['path', 'ptr', 'size'] };
  table[SYS_llistxattr] = { name: 'llistxattr', handler: pathList(false), args: ['path', 'ptr', 'size'] };
  table[SYS_flistxattr] = {
    name: 'flistxattr', args: ['fd', 'ptr', 'size'],
    handler: (t, a) => listxattr(t, fdTarget(t, a.int(0), false), a.ptr(1), a.size(2)),
  };
  table[SYS_setxattr] = { name: 'setxattr', handler: pathSet(true), args: [...path, 'hex'] };
  table[SYS_lsetxattr] = { name: 'lsetxattr', handler: pathSet(false), args: [...path, 'hex'] };
  table[SYS_fsetxattr] = {
    name: 'fsetxattr', args: [...fdArgs, 'hex'],
    handler: (t, a) => {
      const c = setxattrCopy(t, a.ptr(1), a.ptr(2), a.size(3), a.int(4));
      return setxattr(t, fdTarget(t, a.int(0), true), c);
    },
  };
  table[SYS_removexattr] = { name: 'removexattr', handler: pathRemove(true), args: ['path', 'ptr'] };
  table[SYS_lremovexattr] = { name: 'lremovexattr', handler: pathRemove(false), args: ['path', 'ptr'] };
  table[SYS_fremovexattr] = {
    name: 'fremovexattr', args: ['fd', 'ptr'],
    handler: (t, a) => { const n = importName(t, a.ptr(1)); return removexattr(t, fdTarget(t, a.int(0), false), n); },
  };
}
