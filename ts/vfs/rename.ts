// rename(2) family (Linux do_renameat2/vfs_rename): both parents resolved, the two names
// checked for kind, the mounts compared (EXDEV), then types, loops, permissions and mount
// points, and finally the file system moves the entry and the dentry cache follows.

import { SyscallError } from '../kernel/syscall_error';
import { EBUSY, EEXIST, EINVAL, EISDIR, ENOENT, ENOTDIR, ENOTEMPTY, EROFS, EXDEV } from '../abi/linux/errno';
import { RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT } from '../abi/linux/fs';
import { Dentry } from './dentry';
import { MAY_EXEC, MAY_WRITE, checkPermission, checkSticky } from './permission';
import { checkDeletable } from './inode_flags';
import { isMountpoint } from './remove_ops';
import { walk, type ResolveContext } from './resolve';
import type { VirtualDentry } from './virtual_dentry';
import { fsnotifyRename } from './fsnotify';
import { landlockCheckRefer } from '../kernel/landlock/domain';
import { afterChange } from './change_wait';

function isDot(name: string): boolean {
  return name === '' || name === '.' || name === '..';
}

/** The new name is asked for only once the old one's parent is found: do_renameat2 looks the
 *  old name up whole first, so its errors come before any of the new name's. */
export function renameAt(ctx: ResolveContext, oldStart: VirtualDentry, oldPath: string,
  newName: () => { start: VirtualDentry; path: string }, flags: number): void {
  // RENAME_WHITEOUT is the file system's to do or refuse (EINVAL), as Linux's i_op->rename.
  if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) !== 0) throw new SyscallError(EINVAL);
  if ((flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)) && (flags & RENAME_EXCHANGE)) throw new SyscallError(EINVAL);
  const from = walk(ctx, oldStart, oldPath, { follow: false, parentOnly: true });
  const next = newName();
  const to = walk(ctx, next.start, next.path, { follow: false, parentOnly: true });
  if (isDot(from.name)) throw new SyscallError(EBUSY);
  if (isDot(to.name)) throw new SyscallError(flags & RENAME_NOREPLACE ? EEXIST : EBUSY);
  const oldDir = from.parent, newDir = to.parent;
  if (oldDir.mount !== newDir.mount) throw new SyscallError(EXDEV);
  if (oldDir.mount.readonly) throw new SyscallError(EROFS);
  const oldD = oldDir.dentry.lookup(from.name);
  if (!oldD) throw new SyscallError(ENOENT);
  const exchange = (flags & RENAME_EXCHANGE) !== 0;
  const oldIsDir = oldD.inode.isDir;
  if (!oldIsDir && (from.mustBeDir || (!exchange && to.mustBeDir))) throw new SyscallError(ENOTDIR);
  const newD = newDir.dentry.lookup(to.name);
  if (newD && (flags & RENAME_NOREPLACE)) throw new SyscallError(EEXIST);
  if (!newD && exchange) throw new SyscallError(ENOENT);
  if (exchange && newD && !newD.inode.isDir && to.mustBeDir) throw new SyscallError(ENOTDIR);
  // Moving a directory under itself, or onto one of its own ancestors.
  if (oldD.isAncestorOf(newDir.dentry)) throw new SyscallError(EINVAL);
  if (newD && newD.isAncestorOf(oldDir.dentry)) throw new SyscallError(exchange ? EINVAL : ENOTEMPTY);
  landlockCheckRefer(ctx.creds, oldDir, oldD, newDir, newD ?? null, true, exchange);
  if (newD && newD.inode === oldD.inode) return; // two names of one file: nothing to do
  checkPermission(ctx.creds, oldDir.inode, MAY_WRITE | MAY_EXEC);
  checkPermission(ctx.creds, newDir.inode, MAY_WRITE | MAY_EXEC);
  checkSticky(ctx.creds, oldDir.inode, oldD.inode);
  checkDeletable(oldDir.inode, oldD.inode);
  if (newD) {
    checkSticky(ctx.creds, newDir.inode, newD.inode);
    checkDeletable(newDir.inode, newD.inode);
  }
  // A directory changing parent rewrites its '..': it must be writable too.
  if (oldDir.dentry !== newDir.dentry) {
    if (oldIsDir) checkPermission(ctx.creds, oldD.inode, MAY_WRITE);
    if (exchange && newD?.inode.isDir) checkPermission(ctx.creds, newD.inode, MAY_WRITE);
  }
  if (newD && !exchange) {
    if (oldIsDir && !newD.inode.isDir) throw new SyscallError(ENOTDIR);
    if (!oldIsDir && newD.inode.isDir) throw new SyscallError(EISDIR);
  }
  if (isMountpoint(ctx.ns, oldDir, oldD) || (newD && isMountpoint(ctx.ns, newDir, newD))) throw new SyscallError(EBUSY);
  afterChange(() => oldDir.inode.rename(from.name, oldD.inode, newDir.inode, to.name, newD?.inode ?? null, flags, ctx.creds), () => {
    if (exchange && newD) Dentry.exchanged(oldD, newD);
    else oldDir.dentry.moved(oldD, newDir.dentry, to.name);
    fsnotifyRename(oldDir.inode, from.name, newDir.inode, to.name, oldD.inode, newD ?? null, exchange);
  });
}

