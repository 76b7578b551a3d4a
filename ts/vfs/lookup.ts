// Path lookup for the syscalls that take paths, until the mount tree lands. There is no file
// system yet, so the only names that resolve are the /proc symlinks that programs read at
// start-up (/proc/self/exe and its spellings); every other path is ENOENT. Paths are never
// handed to the host. What is checked is what Linux checks before it looks at a name: an
// empty path, and a relative path's dirfd (EBADF if closed, ENOTDIR if not a directory).

import type { Task } from '../kernel/task';
import { SyscallError } from '../kernel/syscall_error';
import { EBADF, EINVAL, ENOENT, ENOTDIR } from '../abi/linux/errno';
import { AT_FDCWD } from '../abi/linux/fcntl';
import { S_IFDIR, S_IFMT, type Stat } from '../abi/linux/stat';

/** The absolute, normalised form of `path` as seen from dirfd. */
export function absolutePath(t: Task, dirfd: number, path: string): string {
  if (path === '') throw new SyscallError(ENOENT);
  let base = '/';
  if (!path.startsWith('/')) {
    if (dirfd === AT_FDCWD) {
      base = t.fs.cwd;
    } else {
      const dir = t.fdTable.get(dirfd);
      if (!dir) throw new SyscallError(EBADF);
      if ((dir.stat().mode & S_IFMT) !== S_IFDIR) throw new SyscallError(ENOTDIR);
      // Directories cannot be opened yet, so no dirfd can name one: nothing below resolves.
      throw new SyscallError(ENOENT);
    }
  }
  const parts: string[] = [];
  for (const p of `${base}/${path}`.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return `/${parts.join('/')}`;
}

/** Target of the symlink at path: ENOENT if nothing is there, EINVAL if it is not a symlink. */
export function readlinkPath(t: Task, dirfd: number, path: string): string {
  const abs = absolutePath(t, dirfd, path);
  const target = procLink(t, abs);
  if (target !== undefined) return target;
  if (abs === '/' || abs === '/proc') throw new SyscallError(EINVAL);
  throw new SyscallError(ENOENT);
}

/** stat(2) of a path (following symlinks when `follow`). */
export function statPath(t: Task, dirfd: number, path: string, _follow: boolean): Stat {
  absolutePath(t, dirfd, path);
  throw new SyscallError(ENOENT);
}

/** The /proc symlinks that need no proc file system: self, thread-self, <pid>/exe. */
function procLink(t: Task, abs: string): string | undefined {
  const m = /^\/proc\/([^/]+)(?:\/task\/(\d+))?(?:\/(exe))?$/.exec(abs);
  if (!m) return undefined;
  const [, who, tid, leaf] = m;
  if (who === 'self' && !tid && !leaf) return `${t.tg.tgid}`;
  if (who === 'thread-self' && !tid && !leaf) return `${t.tg.tgid}/task/${t.tid}`;
  if (!leaf) return undefined;
  let tg = who === 'self' || who === 'thread-self' ? t.tg : undefined;
  if (who === 'thread-self' && tid) return undefined;
  if (!tg && /^\d+$/.test(who)) tg = t.kernel.threadGroups.get(Number(who));
  if (!tg) return undefined;
  if (tid) {
    const task = t.kernel.tasks.get(Number(tid));
    if (!task || task.tg !== tg) return undefined;
  }
  return tg.exePath || undefined;
}
