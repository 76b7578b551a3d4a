// open(2) on the VFS (Linux do_filp_open/path_openat/do_open): resolve, create if asked,
// check the access the flags want, truncate, and ask the inode for a description. The order
// of the checks is Linux's, so that every failure gives the errno Linux would.

import { SyscallError } from '../kernel/syscall_error';
import { EACCES, EEXIST, EINVAL, EISDIR, ELOOP, ENOENT, ENOTDIR, EROFS } from '../abi/linux/errno';
import {
  O_ACCMODE, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_LARGEFILE, O_NOATIME, O_NOCTTY, O_NOFOLLOW, O_PATH,
  O_APPEND, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, __O_TMPFILE,
} from '../abi/linux/fcntl';
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from '../abi/linux/stat';
import type { FileDescription } from './file_description';
import { MAY_EXEC, MAY_READ, MAY_WRITE, checkOwner, checkPermission } from './permission';
import { checkAppendOnlyOpen } from './inode_flags';
import { walk, type ResolveContext, type WalkOptions } from './resolve';
import { VirtualDentry } from './virtual_dentry';
import { Dentry } from './dentry';
import { fsnotifyChange, fsnotifyCreate, fsnotifyOpen } from './fsnotify';
import { IN_MODIFY } from '../abi/linux/inotify';
import { PathFile, VfsFile } from './vfs_file';
import { breakLease, noteOpen } from './locks/lease';
import { now } from './time';
import { checkWriteAccess, getWriteAccess } from './write_access';
import { OpenWait, allowOpenWait, takeOpenWait } from './open_wait';
import { LANDLOCK_ACCESS_FS_MAKE_REG, landlockCheckPath, openAccess } from '../kernel/landlock/domain';

/** Flags that describe the open call, not the open file (Linux clears them from f_flags). */
const CALL_ONLY_FLAGS = O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC;

export interface OpenRequest {
  flags: number;
  /** Mode for O_CREAT, before the umask. */
  mode: number;
  umask: number;
  /** openat2's RESOLVE_* restrictions. */
  resolve?: Omit<WalkOptions, 'follow'>;
}

/** Can the file be written on this mount? (Linux sb_rdonly for reg/dir/symlink only.) */
export function checkWritableMount(vd: VirtualDentry): void {
  if (!vd.mount.readonly) return;
  const type = vd.inode.mode & S_IFMT;
  if (type === S_IFREG || type === S_IFDIR || type === S_IFLNK) throw new SyscallError(EROFS);
}

export function openAt(ctx: ResolveContext, start: VirtualDentry, path: string, req: OpenRequest): FileDescription {
  let flags = req.flags;
  if (flags & __O_TMPFILE) {
    // O_TRUNC asks for write access too (build_open_flags folds it in before this check).
    if (((flags & O_ACCMODE) === O_RDONLY && (flags & O_TRUNC) === 0) || (flags & O_DIRECTORY) === 0) {
      throw new SyscallError(EINVAL);
    }
    // do_tmpfile: the directory is looked up (and must be one) before the file system is asked;
    // none here makes unnamed files yet.
    const dir = walk(ctx, start, path, { ...req.resolve, follow: (flags & O_NOFOLLOW) === 0 });
    if (dir.file || !dir.vd) throw new SyscallError(dir.file ? ENOTDIR : ENOENT);
    if (!dir.vd.inode.isDir) throw new SyscallError(ENOTDIR);
    return openTmpfile(ctx, dir.vd, flags, req);
  }
  if (flags & O_PATH) flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  const create = (flags & O_CREAT) !== 0;
  const follow = (flags & O_NOFOLLOW) === 0 && !(create && (flags & O_EXCL) !== 0);
  const r = walk(ctx, start, path, { ...req.resolve, follow, allowMissing: create });
  if (r.file) {
    // A magic link to a file with no place in the tree (never a directory: do_open's
    // ENOTDIR comes first): that same open file, unless it has no open to call (O_PATH
    // calls none).
    if (flags & O_DIRECTORY) throw new SyscallError(ENOTDIR);
    if (r.file.reopenErrno !== undefined && (flags & O_PATH) === 0) throw new SyscallError(r.file.reopenErrno);
    r.file.incRef();
    return r.file;
  }
  let vd = r.vd;
  let created = false;
  if (vd === null) {
    if (r.mustBeDir) throw new SyscallError(EISDIR);
    const dir = r.parent;
    if (dir.dentry.deleted) throw new SyscallError(ENOENT);
    // may_o_create: Landlock's path_mknod before the directory's permission.
    if (!dir.mount.readonly) landlockCheckPath(ctx.creds, dir, LANDLOCK_ACCESS_FS_MAKE_REG);
    checkPermission(ctx.creds, dir.inode, MAY_WRITE | MAY_EXEC);
    checkWritableMount(dir);
    const mode = (req.mode & ~req.umask & 0o7777) | S_IFREG;
    // A create that finds the name made on the host meanwhile opens that file, which the
    // host may make wait (a lease): as the open below.
    if (ctx.t !== null) allowOpenWait();
    let inode;
    try { inode = dir.inode.create(r.name, mode, ctx.creds); } finally { takeOpenWait(); }
    vd = new VirtualDentry(dir.mount, dir.dentry.added(r.name, inode));
    fsnotifyCreate(dir.inode, r.name, inode);
    created = true;
  } else if (create && (flags & O_EXCL)) {
    throw new SyscallError(EEXIST);
  }
  return openFound(ctx, vd, flags, created);
}

/** vfs_tmpfile: a file with no name in dir, open at once; the unnamed dentry shows in
 *  /proc as "DIR/#INO (deleted)", and unless O_EXCL linkat may name it later. */
function openTmpfile(ctx: ResolveContext, dir: VirtualDentry, flags: number, req: OpenRequest): FileDescription {
  checkPermission(ctx.creds, dir.inode, MAY_WRITE | MAY_EXEC);
  checkWritableMount(dir);
  const inode = dir.inode.tmpfile((req.mode & ~req.umask & 0o7777) | S_IFREG, ctx.creds);
  inode.linkable = (flags & O_EXCL) === 0;
  const d = new Dentry(`#${inode.stat().ino}`, dir.dentry, inode);
  d.deleted = true;
  // The open file keeps O_DIRECTORY in its flags (F_GETFL shows O_TMPFILE whole).
  const f = openFound(ctx, new VirtualDentry(dir.mount, d), flags & ~O_DIRECTORY, true);
  f.flags |= O_DIRECTORY;
  return f;
}

/** The open of a file already found (by a walk, or by a file handle): type, permission and
 *  mount checks, lease break, truncation, then the inode's open. */
export function openFound(ctx: ResolveContext, vd: VirtualDentry, flags: number, created = false): FileDescription {
  const create = (flags & O_CREAT) !== 0;
  const inode = vd.inode;
  const type = inode.mode & S_IFMT;
  if (type === S_IFLNK && (flags & O_PATH) === 0) throw new SyscallError(ELOOP);
  if ((flags & O_DIRECTORY) && type !== S_IFDIR) throw new SyscallError(ENOTDIR);
  // force_o_largefile adds O_LARGEFILE before build_open_how strips an O_PATH open's flags.
  const fileFlags = (flags & ~CALL_ONLY_FLAGS) | ((flags & O_PATH) !== 0 ? 0 : O_LARGEFILE);
  if (flags & O_PATH) return fsnotifyOpen(new PathFile(fileFlags, vd), vd, fileFlags);
  const acc = flags & O_ACCMODE;
  const wantWrite = acc === O_WRONLY || acc === O_RDWR || (flags & O_TRUNC) !== 0;
  if (type === S_IFDIR && (wantWrite || create)) throw new SyscallError(EISDIR);
  if (!created) {
    let want = 0;
    if (acc === O_RDONLY || acc === O_RDWR || acc === O_ACCMODE) want |= MAY_READ;
    if (wantWrite || acc === O_ACCMODE) want |= MAY_WRITE;
    checkPermission(ctx.creds, inode, want);
    if ((type === S_IFCHR || type === S_IFBLK) && vd.mount.flags.nodev) throw new SyscallError(EACCES);
    if (wantWrite) checkWritableMount(vd);
    checkAppendOnlyOpen(inode, acc !== O_RDONLY, (flags & O_APPEND) !== 0, (flags & O_TRUNC) !== 0);
    // may_open: O_NOATIME only for the file's owner (or CAP_FOWNER), after the access checks.
    if (flags & O_NOATIME) checkOwner(ctx.creds, inode);
  }
  // do_dentry_open: security_file_open (Landlock), then break_lease, before the truncation
  // and the file system's open.
  landlockCheckPath(ctx.creds, vd, openAccess(type === S_IFDIR, acc !== O_WRONLY, wantWrite || acc === O_ACCMODE));
  if (type === S_IFREG && ctx.t !== null) {
    const wait = breakLease(ctx.t, inode.identity(), flags);
    if (wait !== null) throw new LeaseBreakWait(wait);
  }
  const truncate = (flags & O_TRUNC) !== 0 && type === S_IFREG && !created;
  // get_write_access (do_dentry_open, handle_truncate): not while a program runs the file.
  const writer = type === S_IFREG && (acc === O_WRONLY || acc === O_RDWR);
  if (type === S_IFREG && wantWrite) checkWriteAccess(inode);
  // handle_truncate's ATTR_MTIME | ATTR_CTIME: an empty file's times move too.
  if (truncate) inode.setattr({ size: 0, mtime: now() });
  // Linux reports the open before the truncation (vfs_open, then handle_truncate).
  // A terminal's open must see O_NOCTTY (tty_open decides on the controlling terminal); the
  // open file does not keep it (do_dentry_open drops it from f_flags).
  if (ctx.t !== null) allowOpenWait();
  let opened: FileDescription;
  try { opened = inode.open(ctx.t, vd, fileFlags | (flags & O_NOCTTY)); } finally { takeOpenWait(); }
  opened.flags &= ~O_NOCTTY;
  if (writer) opened.onRelease(getWriteAccess(inode));
  if (type === S_IFREG && opened instanceof VfsFile) noteOpen(opened);
  const f = fsnotifyOpen(opened, vd, fileFlags);
  if (truncate) fsnotifyChange(vd, IN_MODIFY);
  return f;
}

/** An open that must wait for a lease break (lease.ts). */
export class LeaseBreakWait extends OpenWait {
  constructor(wait: () => Promise<void>) { super(() => wait()); }
}
