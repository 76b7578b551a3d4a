// Extended attributes (Linux fs/xattr.c): no file system here stores any yet, so the getters
// report none (ENODATA, an empty list) for any file that exists, and setting one is
// EOPNOTSUPP, what Linux says for a file system without xattr support. Names are still
// validated, so that bad calls fail as on Linux.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EBADF, EINVAL, ENODATA, ENOTSUP as EOPNOTSUPP, ERANGE } from '../../abi/linux/errno';
import { AT_FDCWD, O_PATH } from '../../abi/linux/fcntl';
import {
  SYS_fgetxattr, SYS_flistxattr, SYS_fremovexattr, SYS_fsetxattr, SYS_getxattr, SYS_lgetxattr, SYS_listxattr,
  SYS_llistxattr, SYS_lremovexattr, SYS_lsetxattr, SYS_removexattr, SYS_setxattr,
} from '../../abi/linux/syscall_numbers';
import { locate } from '../../vfs/lookup';
import type { SyscallTable } from './types';
import { getFile } from './fd_util';
import { copyInPath } from './path';

const XATTR_NAME_MAX = 255;

/** The file must exist (the lookup's errors come first). */
function exists(t: Task, addr: number, follow: boolean): void {
  locate(t, AT_FDCWD, copyInPath(t, addr), follow);
}

function fdExists(t: Task, fd: number): void {
  if (getFile(t, fd).flags & O_PATH) fail(EBADF);
}

function checkName(t: Task, addr: number): void {
  const name = t.mm.readCString(addr, XATTR_NAME_MAX + 1);
  if (name === '') fail(ERANGE);
  if (!name.includes('.')) fail(EOPNOTSUPP);
}

function getx(t: Task, nameAddr: number): number {
  checkName(t, nameAddr);
  fail(ENODATA);
}

export function registerXattr(table: SyscallTable): void {
  const path = ['path', 'ptr', 'ptr', 'size'] as const;
  table[SYS_getxattr] = { name: 'getxattr', handler: (t, a) => { exists(t, a.ptr(0), true); return getx(t, a.ptr(1)); }, args: [...path] };
  table[SYS_lgetxattr] = { name: 'lgetxattr', handler: (t, a) => { exists(t, a.ptr(0), false); return getx(t, a.ptr(1)); }, args: [...path] };
  table[SYS_fgetxattr] = { name: 'fgetxattr', handler: (t, a) => { fdExists(t, a.int(0)); return getx(t, a.ptr(1)); }, args: ['fd', 'ptr', 'ptr', 'size'] };
  table[SYS_listxattr] = { name: 'listxattr', handler: (t, a) => { exists(t, a.ptr(0), true); return 0; }, args: ['path', 'ptr', 'size'] };
  table[SYS_llistxattr] = { name: 'llistxattr', handler: (t, a) => { exists(t, a.ptr(0), false); return 0; }, args: ['path', 'ptr', 'size'] };
  table[SYS_flistxattr] = { name: 'flistxattr', handler: (t, a) => { fdExists(t, a.int(0)); return 0; }, args: ['fd', 'ptr', 'size'] };
  const set = (t: Task, nameAddr: number, flags: number): number => {
    if ((flags & ~3) !== 0) fail(EINVAL);
    checkName(t, nameAddr);
    fail(EOPNOTSUPP);
  };
  table[SYS_setxattr] = { name: 'setxattr', handler: (t, a) => { exists(t, a.ptr(0), true); return set(t, a.ptr(1), a.int(4)); }, args: ['path', 'ptr', 'ptr', 'size', 'hex'] };
  table[SYS_lsetxattr] = { name: 'lsetxattr', handler: (t, a) => { exists(t, a.ptr(0), false); return set(t, a.ptr(1), a.int(4)); }, args: ['path', 'ptr', 'ptr', 'size', 'hex'] };
  table[SYS_fsetxattr] = { name: 'fsetxattr', handler: (t, a) => { fdExists(t, a.int(0)); return set(t, a.ptr(1), a.int(4)); }, args: ['fd', 'ptr', 'ptr', 'size', 'hex'] };
  table[SYS_removexattr] = { name: 'removexattr', handler: (t, a) => { exists(t, a.ptr(0), true); return getx(t, a.ptr(1)); }, args: ['path', 'ptr'] };
  table[SYS_lremovexattr] = { name: 'lremovexattr', handler: (t, a) => { exists(t, a.ptr(0), false); return getx(t, a.ptr(1)); }, args: ['path', 'ptr'] };
  table[SYS_fremovexattr] = { name: 'fremovexattr', handler: (t, a) => { fdExists(t, a.int(0)); return getx(t, a.ptr(1)); }, args: ['fd', 'ptr'] };
}
