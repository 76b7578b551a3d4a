// Removing names (Linux do_unlinkat/do_rmdir and may_delete): unlink and rmdir, in Linux's
// order of checks (the kind of last component, a read-only mount, existence, the type, then
// permission, the sticky bit and mount points).

import { SyscallError } from '../kernel/syscall_error';
import { EBUSY, EINVAL, EISDIR, ENOENT, ENOTDIR, ENOTEMPTY, EROFS } from '../abi/linux/errno';
import { MAY_EXEC, MAY_WRITE, checkPermission, checkSticky } from './permission';
import { checkDeletable } from './inode_flags';
import { walk, type ResolveContext } from './resolve';
import type { MountNamespace } from './mount';
import type { Dentry } from './dentry';
import type { VirtualDentry } from './virtual_dentry';
import { fsnotifyUnlink } from './fsnotify';
import { LANDLOCK_ACCESS_FS_REMOVE_DIR, LANDLOCK_ACCESS_FS_REMOVE_FILE, landlockCheckPath } from '../kernel/landlock/domain';
import { afterChange } from './change_wait';

export function isMountpoint(ns: MountNamespace, dir: VirtualDentry, d: Dentry): boolean {
  return ns.mountedAt(dir.mount, d) !== undefined;
}

export function unlinkAt(ctx: ResolveContext, start: VirtualDentry, path: string): void {
  const r = walk(ctx, start, path, { follow: false, parentOnly: true });
  if (r.name === '' || r.name === '.' || r.name === '..') throw new SyscallError(EISDIR);
  const dir = r.parent;
  if (dir.mount.readonly) throw new SyscallError(EROFS);
  const child = dir.dentry.lookup(r.name);
  if (!child) throw new SyscallError(ENOENT);
  if (r.mustBeDir) throw new SyscallError(child.inode.isDir ? EISDIR : ENOTDIR);
  landlockCheckPath(ctx.creds, dir, LANDLOCK_ACCESS_FS_REMOVE_FILE);
  checkPermission(ctx.creds, dir.inode, MAY_WRITE | MAY_EXEC);
  checkSticky(ctx.creds, dir.inode, child.inode);
  checkDeletable(dir.inode, child.inode);
  if (child.inode.isDir) throw new SyscallError(EISDIR);
  if (isMountpoint(ctx.ns, dir, child)) throw new SyscallError(EBUSY);
  afterChange(() => dir.inode.unlink(r.name, child.inode), () => removed(dir, r.name, child));
}

export function rmdirAt(ctx: ResolveContext, start: VirtualDentry, path: string): void {
  const r = walk(ctx, start, path, { follow: false, parentOnly: true });
  if (r.name === '.') throw new SyscallError(EINVAL);
  if (r.name === '..') throw new SyscallError(ENOTEMPTY);
  if (r.name === '') throw new SyscallError(EBUSY);
  const dir = r.parent;
  if (dir.mount.readonly) throw new SyscallError(EROFS);
  const child = dir.dentry.lookup(r.name);
  if (!child) throw new SyscallError(ENOENT);
  landlockCheckPath(ctx.creds, dir, LANDLOCK_ACCESS_FS_REMOVE_DIR);
  checkPermission(ctx.creds, dir.inode, MAY_WRITE | MAY_EXEC);
  checkSticky(ctx.creds, dir.inode, child.inode);
  checkDeletable(dir.inode, child.inode);
  if (!child.inode.isDir) throw new SyscallError(ENOTDIR);
  if (isMountpoint(ctx.ns, dir, child)) throw new SyscallError(EBUSY);
  afterChange(() => dir.inode.rmdir(r.name, child.inode), () => removed(dir, r.name, child));
}

/** The dentry cache and watchers follow a removal the file system made. */
function removed(dir: VirtualDentry, name: string, child: Dentry): void {
  dir.dentry.removed(name);
  fsnotifyUnlink(dir.inode, name, child);
}
