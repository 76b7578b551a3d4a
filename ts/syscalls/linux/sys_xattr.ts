// The extended-attribute syscalls (Linux fs/xattr.c): the path, fd and *at (6.13) forms
// read their arguments in Linux's order (at-flags, then the name and value, then the path),
// find the file and hand it to vfs/xattr_ops.ts, then copy the value or list out with the
// size rules (0 asks for the length, ERANGE for a short buffer, E2BIG past the maximum).

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { E2BIG, EBADF, EINVAL, ERANGE } from '../../abi/linux/errno';
import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, O_PATH } from '../../abi/linux/fcntl';
import {
  SYS_fgetxattr, SYS_flistxattr, SYS_fremovexattr, SYS_fsetxattr, SYS_getxattr, SYS_getxattrat, SYS_lgetxattr,
  SYS_listxattr, SYS_listxattrat, SYS_llistxattr, SYS_lremovexattr, SYS_lsetxattr, SYS_removexattr, SYS_removexattrat,
  SYS_setxattr, SYS_setxattrat,
} from '../../abi/linux/syscall_numbers';
import { PAGE_SIZE } from '../../mm/layout';
import { Socket } from '../../net/socket';
import { sockfsXattrs } from '../../net/sock_xattr';
import { locate, type Located } from '../../vfs/lookup';
import { VfsFile } from '../../vfs/vfs_file';
import { XATTR_CREATE, XATTR_LIST_MAX, XATTR_NAME_MAX, XATTR_REPLACE, XATTR_SIZE_MAX } from '../../vfs/xattr';
import { type XattrTarget, vfsGetxattr, vfsListxattr, vfsRemovexattr, vfsSetxattr } from '../../vfs/xattr_ops';
import type { SyscallArgs, SyscallTable } from './types';
import { getFile } from './fd_util';
import { copyInPath } from './path';

/** sizeof(struct xattr_args) (XATTR_ARGS_SIZE_VER0, the latest). */
const XATTR_ARGS_SIZE = 16;

function targetOf(l: Located): XattrTarget {
  if (l.vd) {
    const inode = l.vd.inode;
    return { vd: l.vd, inode, xattrs: inode, mode: inode.mode, uid: inode.uid, gid: inode.gid };
  }
  const f = l.file!;
  const st = f.stat();
  return { vd: null, inode: null, xattrs: f instanceof Socket ? sockfsXattrs(f) : null, mode: st.mode, uid: st.uid, gid: st.gid };
}

/** The file of a call (path_*xattrat): with AT_EMPTY_PATH a NULL or empty path names dfd
 *  itself, an fd that is not O_PATH; for get and set (cwdToo) a negative dfd then falls to
 *  the path walk, where AT_FDCWD is the working directory. Otherwise the path from dfd. */
function findTarget(t: Task, dfd: number, pathAddr: number, atFlags: number, cwdToo: boolean): XattrTarget {
  let path: string | null;
  if (!(atFlags & AT_EMPTY_PATH)) path = copyInPath(t, pathAddr);
  else path = pathAddr === 0 ? null : copyInPath(t, pathAddr) || null;
  const follow = (atFlags & AT_SYMLINK_NOFOLLOW) === 0;
  if (path !== null) return targetOf(locate(t, dfd, path, follow));
  if (cwdToo && dfd === AT_FDCWD) return targetOf(locate(t, AT_FDCWD, '', true, true));
  const f = getFile(t, dfd);
  if (f.flags & O_PATH) fail(EBADF);
  return targetOf(f instanceof VfsFile ? { vd: f.vd, file: f } : { vd: null, file: f });
}

function checkAtFlags(atFlags: number): void {
  if ((atFlags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) fail(EINVAL);
}

/** import_xattr_name: up to XATTR_NAME_MAX bytes and a NUL; empty or too long is ERANGE.
 *  One character per byte ('latin1'). */
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

/** Copy out bytes for a buffer of size (clamped to max): 0 asks for the length. */
function copyOutSized(t: Task, addr: number, size: number, bytes: Uint8Array, max: number): number {
  const room = Math.min(size, max);
  if (room === 0) return bytes.length;
  if (bytes.length > room) fail(room >= max ? E2BIG : ERANGE);
  t.mm.copyOut(addr, bytes);
  return bytes.length;
}

/** path_getxattrat. */
function getxattrat(t: Task, dfd: number, pathAddr: number, atFlags: number, nameAddr: number, value: number, size: number): number {
  checkAtFlags(atFlags);
  const name = importName(t, nameAddr);
  const x = findTarget(t, dfd, pathAddr, atFlags, true);
  return copyOutSized(t, value, size, vfsGetxattr(t.creds, x, name), XATTR_SIZE_MAX);
}

/** path_listxattrat. */
function listxattrat(t: Task, dfd: number, pathAddr: number, atFlags: number, list: number, size: number): number {
  checkAtFlags(atFlags);
  const names = vfsListxattr(t.creds, findTarget(t, dfd, pathAddr, atFlags, false));
  return copyOutSized(t, list, size, Buffer.from(names.map((n) => `${n}\0`).join(''), 'latin1'), XATTR_LIST_MAX);
}

/** path_setxattrat: setxattr_copy (flags, name, value) before the path. */
function setxattrat(t: Task, dfd: number, pathAddr: number, atFlags: number, nameAddr: number, valueAddr: number,
  size: number, flags: number): number {
  checkAtFlags(atFlags);
  if ((flags & ~(XATTR_CREATE | XATTR_REPLACE)) !== 0) fail(EINVAL);
  const name = importName(t, nameAddr);
  if (size > XATTR_SIZE_MAX) fail(E2BIG);
  const value = size > 0 ? t.mm.copyIn(valueAddr, size) : new Uint8Array(0);
  vfsSetxattr(t.creds, findTarget(t, dfd, pathAddr, atFlags, true), name, value, flags);
  return 0;
}

/** path_removexattrat. */
function removexattrat(t: Task, dfd: number, pathAddr: number, atFlags: number, nameAddr: number): number {
  checkAtFlags(atFlags);
  const name = importName(t, nameAddr);
  vfsRemovexattr(t.creds, findTarget(t, dfd, pathAddr, atFlags, false), name);
  return 0;
}

/** struct xattr_args of setxattrat/getxattrat (copy_struct_from_user: a larger struct is
 *  fine if its tail is zero). */
function xattrArgs(t: Task, addr: number, usize: number): { value: number; size: number; flags: number } {
  if (usize < XATTR_ARGS_SIZE) fail(EINVAL);
  if (usize > PAGE_SIZE) fail(E2BIG);
  const raw = t.mm.copyIn(addr, usize);
  if (raw.subarray(XATTR_ARGS_SIZE).some((b) => b !== 0)) fail(E2BIG);
  const dv = new DataView(raw.buffer, raw.byteOffset, XATTR_ARGS_SIZE);
  return { value: Number(dv.getBigUint64(0, true)), size: dv.getUint32(8, true), flags: dv.getUint32(12, true) };
}

const NOFOLLOW = AT_SYMLINK_NOFOLLOW;
const FD_FORM = AT_EMPTY_PATH;

export function registerXattr(table: SyscallTable): void {
  const get = (at: number) => (t: Task, a: SyscallArgs): number =>
    getxattrat(t, AT_FDCWD, a.ptr(0), at, a.ptr(1), a.ptr(2), a.size(3));
  const list = (at: number) => (t: Task, a: SyscallArgs): number => listxattrat(t, AT_FDCWD, a.ptr(0), at, a.ptr(1), a.size(2));
  const set = (at: number) => (t: Task, a: SyscallArgs): number =>
    setxattrat(t, AT_FDCWD, a.ptr(0), at, a.ptr(1), a.ptr(2), a.size(3), a.int(4));
  const remove = (at: number) => (t: Task, a: SyscallArgs): number => removexattrat(t, AT_FDCWD, a.ptr(0), at, a.ptr(1));
  const path = ['path', 'ptr', 'ptr', 'size'] as const;
  const fdArgs = ['fd', 'ptr', 'ptr', 'size'] as const;
  table[SYS_getxattr] = { name: 'getxattr', handler: get(0), args: [...path] };
  table[SYS_lgetxattr] = { name: 'lgetxattr', handler: get(NOFOLLOW), args: [...path] };
  table[SYS_fgetxattr] = {
    name: 'fgetxattr', args: [...fdArgs],
    handler: (t, a) => getxattrat(t, a.int(0), 0, FD_FORM, a.ptr(1), a.ptr(2), a.size(3)),
  };
  table[SYS_listxattr] = { name: 'listxattr', handler: list(0), args: ['path', 'ptr', 'size'] };
  table[SYS_llistxattr] = { name: 'llistxattr', handler: list(NOFOLLOW), args: ['path', 'ptr', 'size'] };
  table[SYS_flistxattr] = {
    name: 'flistxattr', args: ['fd', 'ptr', 'size'],
    handler: (t, a) => listxattrat(t, a.int(0), 0, FD_FORM, a.ptr(1), a.size(2)),
  };
  table[SYS_setxattr] = { name: 'setxattr', handler: set(0), args: [...path, 'hex'] };
  table[SYS_lsetxattr] = { name: 'lsetxattr', handler: set(NOFOLLOW), args: [...path, 'hex'] };
  table[SYS_fsetxattr] = {
    name: 'fsetxattr', args: [...fdArgs, 'hex'],
    handler: (t, a) => setxattrat(t, a.int(0), 0, FD_FORM, a.ptr(1), a.ptr(2), a.size(3), a.int(4)),
  };
  table[SYS_removexattr] = { name: 'removexattr', handler: remove(0), args: ['path', 'ptr'] };
  table[SYS_lremovexattr] = { name: 'lremovexattr', handler: remove(NOFOLLOW), args: ['path', 'ptr'] };
  table[SYS_fremovexattr] = {
    name: 'fremovexattr', args: ['fd', 'ptr'],
    handler: (t, a) => removexattrat(t, a.int(0), 0, FD_FORM, a.ptr(1)),
  };
  const atArgs = ['fd', 'path', 'hex', 'ptr', 'ptr', 'size'] as const;
  table[SYS_setxattrat] = {
    name: 'setxattrat', args: [...atArgs],
    handler: (t, a) => {
      const x = xattrArgs(t, a.ptr(4), a.size(5));
      return setxattrat(t, a.int(0), a.ptr(1), a.uint(2), a.ptr(3), x.value, x.size, x.flags);
    },
  };
  table[SYS_getxattrat] = {
    name: 'getxattrat', args: [...atArgs],
    handler: (t, a) => {
      const x = xattrArgs(t, a.ptr(4), a.size(5));
      if (x.flags !== 0) fail(EINVAL);
      return getxattrat(t, a.int(0), a.ptr(1), a.uint(2), a.ptr(3), x.value, x.size);
    },
  };
  table[SYS_listxattrat] = {
    name: 'listxattrat', args: ['fd', 'path', 'hex', 'ptr', 'size'],
    handler: (t, a) => listxattrat(t, a.int(0), a.ptr(1), a.uint(2), a.ptr(3), a.size(4)),
  };
  table[SYS_removexattrat] = {
    name: 'removexattrat', args: ['fd', 'path', 'hex', 'ptr'],
    handler: (t, a) => removexattrat(t, a.int(0), a.ptr(1), a.uint(2), a.ptr(3)),
  };
}
