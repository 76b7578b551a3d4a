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
import type { SyscallArgs, SyscallTable } from './types';
import { getFile } from './fd_util';
import { copyInPath } from './path';

const XATTR_NAME_MAX = 255;

/** The file must exist. */
function exists(t: Task, addr: number, follow: boolean): void {
  locate(t, AT_FDCWD, copyInPath(t, addr), follow);
}

/** The file of an f*xattr call. Linux 6.13+ runs fgetxattr as getxattrat(fd, "",
 *  AT_EMPTY_PATH), where AT_FDCWD names the working directory; flistxattr still takes a
 *  descriptor only. */
function fdExists(t: Task, fd: number, cwdToo = false): void {
  if (cwdToo && fd === AT_FDCWD) return;
  if (getFile(t, fd).flags & O_PATH) fail(EBADF);
}

/** import_xattr_name: read before the file is looked up; empty or too long is ERANGE. */
function importName(t: Task, addr: number): string {
  const name = t.mm.readCString(addr, XATTR_NAME_MAX + 1);
  if (name === '' || name.length > XATTR_NAME_MAX) fail(ERANGE);
  return name;
}

const PREFIXES = ['user.', 'trusted.', 'security.'];
const SYSTEM_NAMES = new Set(['system.posix_acl_access', 'system.posix_acl_default']);

/** xattr_resolve_name, once the file is found: a namespace Linux knows, or EOPNOTSUPP; a
 *  namespace prefix with nothing after it is EINVAL. */
function resolveName(name: string): void {
  for (const p of PREFIXES) {
    if (name.startsWith(p)) {
      if (name.length === p.length) fail(EINVAL);
      return;
    }
  }
  if (!SYSTEM_NAMES.has(name)) fail(EOPNOTSUPP);
}

/** A getter (or remover) of a name no file here has. */
function getx(name: string): number {
  resolveName(name);
  fail(ENODATA);
}

/** setxattr_copy's checks: flags, then the name; all before the path. */
function setCopy(t: Task, nameAddr: number, flags: number): string {
  if ((flags & ~3) !== 0) fail(EINVAL);
  return importName(t, nameAddr);
}

function setx(name: string): number {
  resolveName(name);
  fail(EOPNOTSUPP);
}

export function registerXattr(table: SyscallTable): void {
  const path = ['path', 'ptr', 'ptr', 'size'] as const;
  const pathGet = (follow: boolean) => (t: Task, a: SyscallArgs): number => {
    const name = importName(t, a.ptr(1));
    exists(t, a.ptr(0), follow);
    return getx(name);
  };
  const fdGet = (cwdToo: boolean) => (t: Task, a: SyscallArgs): number => {
    const name = importName(t, a.ptr(1));
    fdExists(t, a.int(0), cwdToo);
    return getx(name);
  };
  table[SYS_getxattr] = { name: 'getxattr', handler: pathGet(true), args: [...path] };
  table[SYS_lgetxattr] = { name: 'lgetxattr', handler: pathGet(false), args: [...path] };
  table[SYS_fgetxattr] = { name: 'fgetxattr', handler: fdGet(true), args: ['fd', 'ptr', 'ptr', 'size'] };
  table[SYS_listxattr] = { name: 'listxattr', handler: (t, a) => { exists(t, a.ptr(0), true); return 0; }, args: ['path', 'ptr', 'size'] };
  table[SYS_llistxattr] = { name: 'llistxattr', handler: (t, a) => { exists(t, a.ptr(0), false); return 0; }, args: ['path', 'ptr', 'size'] };
  table[SYS_flistxattr] = { name: 'flistxattr', handler: (t, a) => { fdExists(t, a.int(0)); return 0; }, args: ['fd', 'ptr', 'size'] };
  const pathSet = (follow: boolean) => (t: Task, a: SyscallArgs): number => {
    const name = setCopy(t, a.ptr(1), a.int(4));
    exists(t, a.ptr(0), follow);
    return setx(name);
  };
  table[SYS_setxattr] = { name: 'setxattr', handler: pathSet(true), args: ['path', 'ptr', 'ptr', 'size', 'hex'] };
  table[SYS_lsetxattr] = { name: 'lsetxattr', handler: pathSet(false), args: ['path', 'ptr', 'ptr', 'size', 'hex'] };
  table[SYS_fsetxattr] = {
    name: 'fsetxattr', handler: (t, a) => { const n = setCopy(t, a.ptr(1), a.int(4)); fdExists(t, a.int(0)); return setx(n); },
    args: ['fd', 'ptr', 'ptr', 'size', 'hex'],
  };
  table[SYS_removexattr] = { name: 'removexattr', handler: pathGet(true), args: ['path', 'ptr'] };
  table[SYS_lremovexattr] = { name: 'lremovexattr', handler: pathGet(false), args: ['path', 'ptr'] };
  table[SYS_fremovexattr] = { name: 'fremovexattr', handler: fdGet(false), args: ['fd', 'ptr'] };
}
