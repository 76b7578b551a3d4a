// inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch (Linux
// fs/notify/inotify/inotify_user.c) over kernel/inotify.ts. The checks come in Linux's
// order: the mask before the fd, the fd before the path, and read permission on the file.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, ENOENT, ENOTDIR } from '../../abi/linux/errno';
import { AT_FDCWD } from '../../abi/linux/fcntl';
import {
  ALL_INOTIFY_BITS, IN_CLOEXEC, IN_DONT_FOLLOW, IN_MASK_ADD, IN_MASK_CREATE, IN_NONBLOCK, IN_ONLYDIR,
} from '../../abi/linux/inotify';
import {
  SYS_inotify_add_watch, SYS_inotify_init, SYS_inotify_init1, SYS_inotify_rm_watch,
} from '../../abi/linux/syscall_numbers';
import { Inotify } from '../../kernel/inotify';
import { MAY_READ, checkPermission } from '../../vfs/permission';
import { walk } from '../../vfs/resolve';
import { resolveContext, startOf } from '../../vfs/task_fs';
import type { SyscallTable } from './types';
import { getFile, nofileLimit } from './fd_util';
import { copyInPath } from './path';

function inotifyInit1(t: Task, flags: number): number {
  if ((flags & ~(IN_CLOEXEC | IN_NONBLOCK)) !== 0) fail(EINVAL);
  const f = new Inotify(t, flags);
  try {
    return t.fdTable.newFD(f, { cloexec: (flags & IN_CLOEXEC) !== 0, limit: nofileLimit(t) });
  } finally {
    f.decRef();
  }
}

function inotifyOf(t: Task, fd: number): Inotify {
  const f = getFile(t, fd);
  if (!(f instanceof Inotify)) fail(EINVAL);
  return f;
}

function addWatch(t: Task, fd: number, addr: number, mask: number): number {
  // Bits inotify does not know, or none it does, before the fd; the ADD/CREATE pair after.
  if ((mask & ~ALL_INOTIFY_BITS) !== 0 || (mask & ALL_INOTIFY_BITS) === 0) fail(EINVAL);
  const ino = inotifyOf(t, fd);
  if ((mask & IN_MASK_ADD) && (mask & IN_MASK_CREATE)) fail(EINVAL);
  const path = copyInPath(t, addr);
  if (path === '') fail(ENOENT);
  const ctx = resolveContext(t);
  const r = walk(ctx, startOf(t, AT_FDCWD, path), path, { follow: (mask & IN_DONT_FOLLOW) === 0 });
  const vd = r.vd ?? fail(ENOENT);
  if ((mask & IN_ONLYDIR) && !vd.inode.isDir) fail(ENOTDIR);
  checkPermission(ctx.creds, vd.inode, MAY_READ);
  return ino.addWatch(vd.inode, mask);
}

function rmWatch(t: Task, fd: number, wd: number): number {
  inotifyOf(t, fd).rmWatch(wd);
  return 0;
}

export function registerInotify(table: SyscallTable): void {
  table[SYS_inotify_init] = { name: 'inotify_init', handler: (t) => inotifyInit1(t, 0), args: [] };
  table[SYS_inotify_init1] = { name: 'inotify_init1', handler: (t, a) => inotifyInit1(t, a.int(0)), args: ['hex'] };
  table[SYS_inotify_add_watch] = {
    name: 'inotify_add_watch', handler: (t, a) => addWatch(t, a.int(0), a.ptr(1), a.uint(2)), args: ['fd', 'path', 'hex'],
  };
  table[SYS_inotify_rm_watch] = { name: 'inotify_rm_watch', handler: (t, a) => rmWatch(t, a.int(0), a.int(1)), args: ['fd', 'int'] };
}
