// stat, lstat, fstat, newfstatat, statx, statfs, fstatfs (Linux fs/stat.c, fs/statfs.c).
// Files reached through an fd are asked directly; paths are resolved by the VFS.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EBADF, EINVAL, ENOENT } from '../../abi/linux/errno';
import {
  AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_STATX_SYNC_TYPE, AT_SYMLINK_NOFOLLOW, O_PATH,
} from '../../abi/linux/fcntl';
import {
  ST_NOATIME, ST_NODEV, ST_NODIRATIME, ST_NOEXEC, ST_NOSUID, ST_NOSYMFOLLOW, ST_RDONLY, ST_RELATIME, ST_VALID, encodeStatfs, type Statfs,
} from '../../abi/linux/fs';
import { INIT_USER_NS, fromKgid, fromKuid } from '../../kernel/ns/user_namespace';
import { STATX__RESERVED, S_IFIFO, S_IFMT, S_IFSOCK, encodeStat, encodeStatx, type Stat } from '../../abi/linux/stat';
import {
  SYS_fstat, SYS_fstatfs, SYS_lstat, SYS_newfstatat, SYS_stat, SYS_statfs, SYS_statx,
} from '../../abi/linux/syscall_numbers';
import { locate, statPath } from '../../vfs/lookup';
import { VfsFile } from '../../vfs/vfs_file';
import { devFsid } from '../../vfs/file_system';
import type { FileDescription } from '../../vfs/file_description';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import type { SyscallArgs, SyscallTable } from './types';
import { getFile } from './fd_util';
import { copyInPath } from './path';

const STAT_FLAGS = AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE;
const PIPEFS_MAGIC = 0x50495045, SOCKFS_MAGIC = 0x534f434b, ANON_INODE_FS_MAGIC = 0x09041934;

/** What fstatat/statx look at (Linux 6.18's getname_maybe_null): with AT_EMPTY_PATH a NULL
 *  or empty path and a descriptor (dirfd >= 0) mean that file, and then nothing else about
 *  the flags is checked. Otherwise the flags are checked first, and only then does an
 *  unreadable path (EFAULT) or an empty one without AT_EMPTY_PATH (ENOENT) count. */
/** The owner as the caller's user namespace names it (from_kuid_munged); the initial
 *  namespace sees kernel ids as they are. */
function asSeenBy(t: Task, st: Stat): Stat {
  const ns = t.creds.userNs;
  if (ns === INIT_USER_NS) return st;
  return { ...st, uid: fromKuid(ns, st.uid), gid: fromKgid(ns, st.gid) };
}

/** The file fstatat/statx name, and where it is in the tree (null for a file with no place
 *  in it, a pipe named by its fd). */
function locateAt(t: Task, dirfd: number, pathAddr: number, flags: number): { st: Stat | Promise<Stat>, vd: VirtualDentry | null } {
  const emptyPath = (flags & AT_EMPTY_PATH) !== 0;
  let path: string | null = null;
  let pathError: unknown = null;
  if (!emptyPath || pathAddr !== 0) {
    try {
      path = copyInPath(t, pathAddr);
    } catch (e) {
      pathError = e;
    }
  }
  const self = pathError === null && emptyPath && (path === null || path === '');
  if (!(self && dirfd >= 0)) {
    if ((flags & ~STAT_FLAGS) !== 0) fail(EINVAL);
    if (pathError !== null) throw pathError;
  }
  const p = self && dirfd >= 0 ? '' : path ?? '';
  const l = locate(t, dirfd, p, self || (flags & AT_SYMLINK_NOFOLLOW) === 0, self || emptyPath);
  // fstatat(fd, "", AT_EMPTY_PATH) is fstat (vfs_fstat): the open file answers, which may know
  // more than its name does (a lower file the host renamed since: lower_file.ts).
  const st = p === '' && l.file instanceof VfsFile ? l.file.statBy(t) : l.vd ? l.vd.inode.stat() : l.file!.stat();
  return { st, vd: l.vd };
}

/** st as struct stat at out (0), now or once an fstat the host makes wait is answered; no
 *  closure on the common path. */
function statOut(t: Task, out: number, st: Stat | Promise<Stat>): number | Promise<number> {
  if (st instanceof Promise) return st.then((s) => statOut(t, out, s));
  t.mm.copyOut(out, encodeStat(asSeenBy(t, st)));
  return 0;
}

function sysStat(t: Task, a: SyscallArgs): number {
  const st = statPath(t, AT_FDCWD, copyInPath(t, a.ptr(0)), true);
  t.mm.copyOut(a.ptr(1), encodeStat(asSeenBy(t, st)));
  return 0;
}

function sysLstat(t: Task, a: SyscallArgs): number {
  const st = statPath(t, AT_FDCWD, copyInPath(t, a.ptr(0)), false);
  t.mm.copyOut(a.ptr(1), encodeStat(asSeenBy(t, st)));
  return 0;
}

function sysFstat(t: Task, a: SyscallArgs): number | Promise<number> {
  const out = a.ptr(1);
  return statOut(t, out, getFile(t, a.int(0)).statBy(t));
}

function sysNewfstatat(t: Task, a: SyscallArgs): number | Promise<number> {
  const out = a.ptr(2);
  return statOut(t, out, locateAt(t, a.int(0), a.ptr(1), a.int(3)).st);
}

function sysStatx(t: Task, a: SyscallArgs): number | Promise<number> {
  const dirfd = a.int(0);
  const pathAddr = a.ptr(1);
  const flags = a.int(2);
  const mask = a.uint(3);
  if ((mask & STATX__RESERVED) !== 0) fail(EINVAL);
  if ((flags & AT_STATX_SYNC_TYPE) === AT_STATX_SYNC_TYPE) fail(EINVAL);
  const { st, vd } = locateAt(t, dirfd, pathAddr, flags);
  // vfs_statx: the mount's id, and whether this is the root of its mount.
  const mountRoot = vd !== null && vd.dentry === vd.mount.root;
  const out = a.ptr(4);
  const mountId = vd?.mount.id ?? 0;
  if (st instanceof Promise) return st.then((s) => statxOut(t, out, s, mountId, mountRoot));
  return statxOut(t, out, st, mountId, mountRoot);
}

function statxOut(t: Task, out: number, st: Stat, mountId: number, mountRoot: boolean): number {
  t.mm.copyOut(out, encodeStatx(asSeenBy(t, st), mountId, mountRoot));
  return 0;
}

/** statfs of the file system at vd, with the mount's flags (Linux flags_by_mnt). */
function statfsOf(vd: VirtualDentry): Statfs {
  const s = vd.mount.fs.statfs();
  const f = vd.mount.flags;
  const atime = f.atime === 'noatime' ? ST_NOATIME : f.atime === 'strictatime' ? 0 : ST_RELATIME;
  s.flags = ST_VALID | atime | (f.nodiratime ? ST_NODIRATIME : 0) | (f.readonly ? ST_RDONLY : 0) | (f.nosuid ? ST_NOSUID : 0) |
    (f.nodev ? ST_NODEV : 0) | (f.noexec ? ST_NOEXEC : 0) | (f.nosymfollow ? ST_NOSYMFOLLOW : 0);
  // A file system that names none has the one simple_statfs gives: its device number.
  if (s.fsid[0] === 0 && s.fsid[1] === 0) s.fsid = vd.mount.fs.fsid;
  return s;
}

/** Pipes, sockets and anonymous inodes (eventfd, epoll...) live on pseudo file systems of
 *  their own: pipefs, sockfs, anon_inodefs (simple_statfs: the device as fsid). */
function anonStatfs(f: FileDescription): Statfs {
  const st = f.stat();
  const kind = st.mode & S_IFMT;
  const type = kind === S_IFSOCK ? SOCKFS_MAGIC : kind === S_IFIFO ? PIPEFS_MAGIC : ANON_INODE_FS_MAGIC;
  return { type, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0,
    fsid: devFsid(st.dev), namelen: 255, frsize: 4096, flags: ST_VALID };
}

function sysStatfs(t: Task, a: SyscallArgs): number {
  // A magic link to a file with no place in the tree (a pipe on /proc/self/fd/0) names its
  // anonymous file system.
  const l = locate(t, AT_FDCWD, copyInPath(t, a.ptr(0)), true);
  const s = l.vd ? statfsOf(l.vd) : l.file ? anonStatfs(l.file) : fail(ENOENT);
  t.mm.copyOut(a.ptr(1), encodeStatfs(s));
  return 0;
}

function sysFstatfs(t: Task, a: SyscallArgs): number {
  const f = getFile(t, a.int(0));
  let s: Statfs;
  if (f instanceof VfsFile) {
    s = statfsOf(f.vd);
  } else {
    if (f.flags & O_PATH) fail(EBADF);
    s = anonStatfs(f);
  }
  t.mm.copyOut(a.ptr(1), encodeStatfs(s));
  return 0;
}

export function registerStat(table: SyscallTable): void {
  table[SYS_stat] = { name: 'stat', handler: sysStat, args: ['path', 'outptr'] };
  table[SYS_lstat] = { name: 'lstat', handler: sysLstat, args: ['path', 'outptr'] };
  table[SYS_fstat] = { name: 'fstat', handler: sysFstat, args: ['fd', 'outptr'] };
  table[SYS_newfstatat] = { name: 'newfstatat', handler: sysNewfstatat, args: ['fd', 'path', 'outptr', 'hex'] };
  table[SYS_statx] = { name: 'statx', handler: sysStatx, args: ['fd', 'path', 'hex', 'hex', 'outptr'] };
  table[SYS_statfs] = { name: 'statfs', handler: sysStatfs, args: ['path', 'outptr'] };
  table[SYS_fstatfs] = { name: 'fstatfs', handler: sysFstatfs, args: ['fd', 'outptr'] };
}
