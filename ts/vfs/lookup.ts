// Path lookup for the syscalls that take (dirfd, path): where the walk starts, the
// AT_EMPTY_PATH case (the path names dirfd itself) and the two questions most syscalls ask,
// "what is there" (stat) and "what does the link say" (readlink).

import type { Task } from '../kernel/task';
import { SyscallError } from '../kernel/syscall_error';
import { EBADF, EINVAL, ENOENT, ENOTDIR } from '../abi/linux/errno';
import { AT_FDCWD } from '../abi/linux/fcntl';
import type { Stat } from '../abi/linux/stat';
import type { FileDescription } from './file_description';
import { walk } from './resolve';
import { cwdOf, resolveContext, startOf } from './task_fs';
import { VfsFile } from './vfs_file';
import type { VirtualDentry } from './virtual_dentry';

export interface Located {
  /** The place the path names, if it has one. */
  vd: VirtualDentry | null;
  /** The open file, when the path named one directly (AT_EMPTY_PATH, a magic link). */
  file: FileDescription | null;
}

/** What path names from dirfd. With emptyPath (AT_EMPTY_PATH) '' names dirfd itself. */
export function locate(t: Task, dirfd: number, path: string, follow: boolean, emptyPath = false): Located {
  if (path === '') {
    if (!emptyPath) throw new SyscallError(ENOENT);
    if (dirfd === AT_FDCWD) return { vd: cwdOf(t), file: null };
    const f = t.fdTable.get(dirfd);
    if (!f) throw new SyscallError(EBADF);
    return { vd: f instanceof VfsFile ? f.vd : null, file: f };
  }
  const r = walk(resolveContext(t), startOf(t, dirfd, path), path, { follow });
  return { vd: r.vd, file: r.file ?? null };
}

/** The place path names (ENOENT for a magic link to a file with none, e.g. a pipe). */
export function locateVd(t: Task, dirfd: number, path: string, follow: boolean, emptyPath = false): VirtualDentry {
  const l = locate(t, dirfd, path, follow, emptyPath);
  if (!l.vd) throw new SyscallError(ENOENT);
  return l.vd;
}

/** The directory path names, a final symlink followed (LOOKUP_FOLLOW | LOOKUP_DIRECTORY):
 *  ENOTDIR if it is something else. */
export function locateDirVd(t: Task, dirfd: number, path: string): VirtualDentry {
  const vd = locateVd(t, dirfd, path, true);
  if (!vd.inode.isDir) throw new SyscallError(ENOTDIR);
  return vd;
}

/** stat(2) of a path (following a final symlink when `follow`). */
export function statPath(t: Task, dirfd: number, path: string, follow: boolean, emptyPath = false): Stat {
  const l = locate(t, dirfd, path, follow, emptyPath);
  // fstatat(fd, "", AT_EMPTY_PATH) is fstat (vfs_fstat): the open file answers, which may know
  // more than its name does (a lower file the host renamed since: lower_file.ts).
  if (path === '' && l.file instanceof VfsFile) return l.file.stat();
  return l.vd ? l.vd.inode.stat() : l.file!.stat();
}

/** Target of the symlink at path: EINVAL if it is not one. An empty path names dirfd
 *  (a symlink opened with O_PATH|O_NOFOLLOW), ENOENT if that is not a symlink. */
export function readlinkPath(t: Task, dirfd: number, path: string): string {
  if (path === '') {
    const l = locate(t, dirfd, path, false, true);
    if (!l.vd || !l.vd.inode.isSymlink) throw new SyscallError(ENOENT);
    return l.vd.inode.readlink(t);
  }
  // The type first, as Linux's do_readlinkat: a file or directory is EINVAL without asking
  // its file system (on a gofer tree, a round trip: realpath() asks it of every component).
  const inode = locateVd(t, dirfd, path, false).inode;
  if (!inode.isSymlink) throw new SyscallError(EINVAL);
  return inode.readlink(t);
}
