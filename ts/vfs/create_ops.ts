// Making names (Linux namei.c filename_create and the vfs_mkdir/mknod/symlink/link callers):
// mkdir, mknod, symlink, link. The new name's parent is resolved, the name must not exist,
// and the caller needs write and search permission on the parent, on a writable mount.

import { SyscallError } from '../kernel/syscall_error';
import { EEXIST, EINVAL, ENOENT, EPERM, EXDEV } from '../abi/linux/errno';
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK } from '../abi/linux/stat';
import type { Inode } from './inode';
import { checkWritableMount } from './open';
import { MAY_EXEC, MAY_WRITE, checkPermission, isOwnerOrCapable } from './permission';
import { checkNotPinned } from './inode_flags';
import { CAP_MKNOD } from '../kernel/capabilities';
import { walk, type ResolveContext } from './resolve';
import { VirtualDentry } from './virtual_dentry';
import { fsnotifyCreate, fsnotifyLinkCount } from './fsnotify';
import { landlockCheckPath, landlockCheckRefer, makeAccessOf } from '../kernel/landlock/domain';
import { afterChange } from './change_wait';

interface NewName { dir: VirtualDentry; name: string }

/** The parent and name for a new file at path (EEXIST if taken, ENOENT for a trailing slash
 *  on anything but mkdir); `type` (S_IFMT bits) is what Landlock must let the caller make
 *  there, -1 for a link (checked by linkAt). */
export function prepareCreate(ctx: ResolveContext, start: VirtualDentry, path: string, isDir: boolean, type: number): NewName {
  const r = walk(ctx, start, path, { follow: false, parentOnly: true });
  const dir = r.parent;
  if (r.name === '' || r.name === '.' || r.name === '..') throw new SyscallError(EEXIST);
  if (dir.dentry.lookup(r.name)) throw new SyscallError(EEXIST);
  if (r.mustBeDir && !isDir) throw new SyscallError(ENOENT);
  if (dir.dentry.deleted) throw new SyscallError(ENOENT);
  checkWritableMount(dir);
  if (type >= 0) landlockCheckPath(ctx.creds, dir, makeAccessOf(type));
  checkPermission(ctx.creds, dir.inode, MAY_WRITE | MAY_EXEC);
  return { dir, name: r.name };
}

/** make() makes the file; the new name's dentry and event follow (after a ChangeWait too). */
function added(n: NewName, make: () => Inode): VirtualDentry {
  return afterChange(make, (inode) => addedNow(n, inode));
}

function addedNow(n: NewName, inode: Inode): VirtualDentry {
  const vd = new VirtualDentry(n.dir.mount, n.dir.dentry.added(n.name, inode));
  fsnotifyCreate(n.dir.inode, n.name, inode);
  return vd;
}

export function mkdirAt(ctx: ResolveContext, start: VirtualDentry, path: string, mode: number, umask: number): VirtualDentry {
  const n = prepareCreate(ctx, start, path, true, S_IFDIR);
  return added(n, () => n.dir.inode.mkdir(n.name, (mode & 0o1777 & ~umask) | S_IFDIR, ctx.creds));
}

/** may_mknod: the file type alone, checked before the path is looked at. */
export function mayMknod(mode: number): void {
  const type = mode & S_IFMT;
  if (type === S_IFDIR) throw new SyscallError(EPERM);
  if (type !== 0 && ![S_IFREG, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK].includes(type)) throw new SyscallError(EINVAL);
}

export function mknodAt(ctx: ResolveContext, start: VirtualDentry, path: string, mode: number, rdev: number,
  umask: number): VirtualDentry {
  mayMknod(mode);
  let type = mode & S_IFMT;
  if (type === 0) type = S_IFREG;
  if ((type === S_IFCHR || type === S_IFBLK) && !ctx.creds.hasCapability(CAP_MKNOD)) throw new SyscallError(EPERM);
  const n = prepareCreate(ctx, start, path, false, type);
  const perm = mode & 0o7777 & ~umask;
  return added(n, () => (type === S_IFREG
    ? n.dir.inode.create(n.name, perm | S_IFREG, ctx.creds)
    : n.dir.inode.mknod(n.name, perm | type, type === S_IFCHR || type === S_IFBLK ? rdev : 0, ctx.creds)));
}

export function symlinkAt(ctx: ResolveContext, target: string, start: VirtualDentry, path: string): VirtualDentry {
  if (target === '') throw new SyscallError(ENOENT);
  const n = prepareCreate(ctx, start, path, false, S_IFLNK);
  return added(n, () => n.dir.inode.symlink(n.name, target, ctx.creds));
}

/** link(2): old is what the existing path resolved to. */
export function linkAt(ctx: ResolveContext, old: VirtualDentry, start: VirtualDentry, path: string): VirtualDentry {
  if (old.inode.isDir) throw new SyscallError(EPERM);
  const n = prepareCreate(ctx, start, path, false, -1);
  if (n.dir.mount !== old.mount) throw new SyscallError(EXDEV);
  if (ctx.creds.landlock !== null && old.dentry.parent !== null) {
    landlockCheckRefer(ctx.creds, new VirtualDentry(old.mount, old.dentry.parent), old.dentry, n.dir, null, false, false);
  }
  // fs.protected_hardlinks: only the owner, or someone who could read and write it.
  if (!isOwnerOrCapable(ctx.creds, old.inode.uid)) {
    const m = old.inode.mode;
    if (!old.inode.isRegular || (m & 0o6000) !== 0) throw new SyscallError(EPERM);
    try { checkPermission(ctx.creds, old.inode, 6); } catch { throw new SyscallError(EPERM); }
  }
  // vfs_link: an immutable or append-only file gets no new name.
  checkNotPinned(old.inode);
  if (old.dentry.deleted && old.inode.stat().nlink === 0 && !old.inode.linkable) throw new SyscallError(ENOENT);
  return added(n, () => afterChange(() => n.dir.inode.link(n.name, old.inode), (inode) => {
    old.inode.linkable = false;
    fsnotifyLinkCount(old.inode);
    return inode;
  }));
}
