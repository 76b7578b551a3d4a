// Name operations (Linux fs/namei.c): mkdir, mkdirat, mknod, mknodat, rmdir, unlink,
// unlinkat, rename, renameat, renameat2, link, linkat, symlink, symlinkat. Decoding here,
// meaning in vfs/create_ops.ts, remove_ops.ts and rename.ts.

import { CAP_DAC_READ_SEARCH } from '../../kernel/capabilities';
import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, ENOENT } from '../../abi/linux/errno';
import { AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW } from '../../abi/linux/fcntl';
import { RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT } from '../../abi/linux/fs';
import {
  SYS_link, SYS_linkat, SYS_mkdir, SYS_mkdirat, SYS_mknod, SYS_mknodat, SYS_rename, SYS_renameat, SYS_renameat2,
  SYS_rmdir, SYS_symlink, SYS_symlinkat, SYS_unlink, SYS_unlinkat,
} from '../../abi/linux/syscall_numbers';
import { linkAt, mayMknod, mkdirAt, mknodAt, symlinkAt } from '../../vfs/create_ops';
import { locateVd } from '../../vfs/lookup';
import { rmdirAt, unlinkAt } from '../../vfs/remove_ops';
import { renameAt } from '../../vfs/rename';
import { resolveContext, startOf } from '../../vfs/task_fs';
import type { SyscallTable } from './types';
import { copyInPath } from './path';

/** The path at addr and where it starts from dirfd (ENOENT for an empty path first). */
function at(t: Task, dirfd: number, addr: number): { path: string; start: ReturnType<typeof startOf> } {
  const path = copyInPath(t, addr);
  if (path === '') fail(ENOENT);
  return { path, start: startOf(t, dirfd, path) };
}

function mkdir(t: Task, dirfd: number, addr: number, mode: number): number {
  const p = at(t, dirfd, addr);
  mkdirAt(resolveContext(t), p.start, p.path, mode, t.fs.umask);
  return 0;
}

function mknod(t: Task, dirfd: number, addr: number, modeArg: number, dev: number): number {
  const mode = modeArg & 0xffff; // umode_t
  mayMknod(mode);
  const p = at(t, dirfd, addr);
  mknodAt(resolveContext(t), p.start, p.path, mode, dev, t.fs.umask);
  return 0;
}

function unlink(t: Task, dirfd: number, addr: number, flags: number): number {
  if ((flags & ~AT_REMOVEDIR) !== 0) fail(EINVAL);
  const p = at(t, dirfd, addr);
  if (flags & AT_REMOVEDIR) rmdirAt(resolveContext(t), p.start, p.path);
  else unlinkAt(resolveContext(t), p.start, p.path);
  return 0;
}

function rename(t: Task, olddir: number, oldAddr: number, newdir: number, newAddr: number, flags: number): number {
  // do_renameat2 checks the flags before either name is looked at (or even read).
  if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) !== 0) fail(EINVAL);
  if ((flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)) !== 0 && (flags & RENAME_EXCHANGE) !== 0) fail(EINVAL);
  const from = at(t, olddir, oldAddr);
  renameAt(resolveContext(t), from.start, from.path, () => at(t, newdir, newAddr), flags);
  return 0;
}

function link(t: Task, olddir: number, oldAddr: number, newdir: number, newAddr: number, flags: number): number {
  if ((flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) !== 0) fail(EINVAL);
  const oldPath = copyInPath(t, oldAddr);
  // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH: without it Linux answers ENOENT.
  const empty = (flags & AT_EMPTY_PATH) !== 0 && t.creds.hasCapability(CAP_DAC_READ_SEARCH);
  const old = locateVd(t, olddir, oldPath, (flags & AT_SYMLINK_FOLLOW) !== 0, empty);
  const to = at(t, newdir, newAddr);
  linkAt(resolveContext(t), old, to.start, to.path);
  return 0;
}

function symlink(t: Task, targetAddr: number, newdir: number, newAddr: number): number {
  const target = copyInPath(t, targetAddr);
  if (target === '') fail(ENOENT); // getname of the target, before the new name is looked at
  const to = at(t, newdir, newAddr);
  symlinkAt(resolveContext(t), target, to.start, to.path);
  return 0;
}

export function registerNamei(table: SyscallTable): void {
  table[SYS_mkdir] = { name: 'mkdir', handler: (t, a) => mkdir(t, AT_FDCWD, a.ptr(0), a.uint(1)), args: ['path', 'mode'] };
  table[SYS_mkdirat] = { name: 'mkdirat', handler: (t, a) => mkdir(t, a.int(0), a.ptr(1), a.uint(2)), args: ['fd', 'path', 'mode'] };
  table[SYS_mknod] = {
    name: 'mknod', handler: (t, a) => mknod(t, AT_FDCWD, a.ptr(0), a.uint(1), a.uint(2)), args: ['path', 'mode', 'hex'],
  };
  table[SYS_mknodat] = {
    name: 'mknodat', handler: (t, a) => mknod(t, a.int(0), a.ptr(1), a.uint(2), a.uint(3)), args: ['fd', 'path', 'mode', 'hex'],
  };
  table[SYS_rmdir] = { name: 'rmdir', handler: (t, a) => unlink(t, AT_FDCWD, a.ptr(0), AT_REMOVEDIR), args: ['path'] };
  table[SYS_unlink] = { name: 'unlink', handler: (t, a) => unlink(t, AT_FDCWD, a.ptr(0), 0), args: ['path'] };
  table[SYS_unlinkat] = { name: 'unlinkat', handler: (t, a) => unlink(t, a.int(0), a.ptr(1), a.int(2)), args: ['fd', 'path', 'hex'] };
  table[SYS_rename] = {
    name: 'rename', handler: (t, a) => rename(t, AT_FDCWD, a.ptr(0), AT_FDCWD, a.ptr(1), 0), args: ['path', 'path'],
  };
  table[SYS_renameat] = {
    name: 'renameat', handler: (t, a) => rename(t, a.int(0), a.ptr(1), a.int(2), a.ptr(3), 0),
    args: ['fd', 'path', 'fd', 'path'],
  };
  table[SYS_renameat2] = {
    name: 'renameat2', handler: (t, a) => rename(t, a.int(0), a.ptr(1), a.int(2), a.ptr(3), a.uint(4)),
    args: ['fd', 'path', 'fd', 'path', 'hex'],
  };
  table[SYS_link] = {
    name: 'link', handler: (t, a) => link(t, AT_FDCWD, a.ptr(0), AT_FDCWD, a.ptr(1), 0), args: ['path', 'path'],
  };
  table[SYS_linkat] = {
    name: 'linkat', handler: (t, a) => link(t, a.int(0), a.ptr(1), a.int(2), a.ptr(3), a.int(4)),
    args: ['fd', 'path', 'fd', 'path', 'hex'],
  };
  table[SYS_symlink] = { name: 'symlink', handler: (t, a) => symlink(t, a.ptr(0), AT_FDCWD, a.ptr(1)), args: ['path', 'path'] };
  table[SYS_symlinkat] = {
    name: 'symlinkat', handler: (t, a) => symlink(t, a.ptr(0), a.int(1), a.ptr(2)), args: ['path', 'fd', 'path'],
  };
}
