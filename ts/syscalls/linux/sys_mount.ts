// mount(2) and umount2(2) (Linux fs/namespace.c path_mount, path_umount) in the caller's
// mount namespace: new tmpfs (ramfs), proc, sysfs and devpts (the one instance) file systems, bind
// mounts (MS_BIND, MS_REC for the mounts below), per-mount flag changes (MS_REMOUNT, with or
// without MS_BIND), MS_MOVE, and the propagation type (MS_SHARED/PRIVATE/SLAVE/UNBINDABLE:
// recorded and shown in mountinfo; no mount event propagates between namespaces, since the
// sandbox has one). Flags and errnos follow Linux's order of checks. A tmpfs's options (size,
// nr_inodes, mode...) are fsimpl/tmpfs's. Not done: remounting a file system read-only leaves
// files already open for writing writable.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EAGAIN, EBUSY, EINVAL, ELOOP, ENODEV, ENOTBLK, ENOTDIR, EPERM } from '../../abi/linux/errno';
import { CAP_SYS_ADMIN } from '../../kernel/capabilities';
import { landlockDenyMount } from '../../kernel/landlock/domain';
import { SYS_mount, SYS_umount2 } from '../../abi/linux/syscall_numbers';
import { AT_FDCWD } from '../../abi/linux/fcntl';
import type { SyscallArgs, SyscallTable } from './types';
import { copyInPath } from './path';
import { locateVd } from '../../vfs/lookup';
import { crossDown } from '../../vfs/resolve';
import { knownCwd, resolveContext } from '../../vfs/task_fs';
import { nsproxyOf } from '../../kernel/ns/nsproxy';
import { VfsFile } from '../../vfs/vfs_file';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import { cloneTree, graftTree } from '../../vfs/mount_tree';
import type { Mount, MountFlags, MountNamespace, Propagation } from '../../vfs/mount';
import type { Dentry } from '../../vfs/dentry';
import type { FileSystem } from '../../vfs/file_system';
import type { Inode } from '../../vfs/inode';
import { TmpfsFS } from '../../fsimpl/tmpfs/tmpfs';
import { newProcFS } from '../../fsimpl/proc/proc';
import { newSysFS } from '../../fsimpl/sys/sys';
import { DevptsFS } from '../../fsimpl/devpts/devpts_fs';
import { RamfsFS, parseRamfsMode } from '../../fsimpl/tmpfs/ramfs';
import { defaultParams, parseTmpfsOptions, type TmpfsGiven, type TmpfsParams } from '../../fsimpl/tmpfs/tmpfs_options';
import { INIT_USER_NS, INVALID_ID, makeKgid, makeKuid } from '../../kernel/ns/user_namespace';
import { CgroupFS, checkCgroup2Options } from '../../fsimpl/cgroupfs/cgroupfs';
import { cgroupNsRoot } from '../../kernel/cgroup/cgroup';

const MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_REMOUNT = 32, MS_NOSYMFOLLOW = 256, MS_NOATIME = 1024,
  MS_NODIRATIME = 2048, MS_BIND = 4096, MS_MOVE = 8192, MS_REC = 16384, MS_SILENT = 32768, MS_UNBINDABLE = 1 << 17,
  MS_PRIVATE = 1 << 18, MS_SLAVE = 1 << 19, MS_SHARED = 1 << 20, MS_RELATIME = 1 << 21, MS_STRICTATIME = 1 << 24,
  MS_NOUSER = 0x80000000;
const MS_MGC_MSK = 0xffff0000, MS_MGC_VAL = 0xc0ed0000;
const MS_PROPAGATION = MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE;
const MNT_FORCE = 1, MNT_DETACH = 2, MNT_EXPIRE = 4, UMOUNT_NOFOLLOW = 8;
/** copy_mount_options: at most a page of data. */
const DATA_MAX = 4096;

function mountFlags(flags: number): MountFlags {
  return {
    readonly: (flags & MS_RDONLY) !== 0, nosuid: (flags & MS_NOSUID) !== 0, nodev: (flags & MS_NODEV) !== 0,
    noexec: (flags & MS_NOEXEC) !== 0, nodiratime: (flags & MS_NODIRATIME) !== 0,
    nosymfollow: (flags & MS_NOSYMFOLLOW) !== 0,
    atime: (flags & MS_NOATIME) !== 0 ? 'noatime' : (flags & MS_STRICTATIME) !== 0 ? 'strictatime' : 'relatime',
  };
}

/** Whether vd is the root of its mount (path_mounted). */
export function isMountRoot(vd: VirtualDentry): boolean {
  return vd.dentry === vd.mount.root;
}

/** mount(2)'s data as text: up to the first NUL within a page (or unreadable: EFAULT). */
function readData(t: Task, addr: number): string {
  if (addr === 0) return '';
  const b = t.mm.copyIn(addr, 1);
  if (b[0] === 0) return '';
  let s = '';
  for (let off = 0; off < DATA_MAX; off += 256) {
    let chunk: Uint8Array;
    try { chunk = t.mm.copyIn(addr + off, Math.min(256, DATA_MAX - off)); } catch { break; }
    const nul = chunk.indexOf(0);
    s += Buffer.from(nul >= 0 ? chunk.subarray(0, nul) : chunk).toString('latin1');
    if (nul >= 0) break;
  }
  return s;
}

/** A tmpfs mount's options as the caller gives them (ids in its user namespace). */
export function tmpfsGiven(t: Task, data: string): TmpfsGiven {
  const ns = t.creds.userNs;
  return parseTmpfsOptions(data, ns === INIT_USER_NS, (id) => makeKuid(ns, id) !== INVALID_ID,
    (id) => makeKgid(ns, id) !== INVALID_ID);
}

/** The given options over the defaults, ids as the kernel's. */
function tmpfsParams(t: Task, given: TmpfsGiven): TmpfsParams {
  const p = { ...defaultParams(), ...given };
  if (given.uid !== undefined) p.uid = makeKuid(t.creds.userNs, given.uid);
  if (given.gid !== undefined) p.gid = makeKgid(t.creds.userNs, given.gid);
  return p;
}

/** A new file system of type `type` (get_fs_type: ENODEV for one the sandbox does not have);
 *  rootDentry: the instance's shared root (devpts has one instance). */
/** A remount's data for the file system's own options (fs_context reconfigure). */
export function reconfigure(t: Task, fs: FileSystem, data: string): void {
  if (fs instanceof RamfsFS) parseRamfsMode(data); // checked, and ignored as ramfs does
  else if (fs instanceof DevptsFS) fs.configure(data);
  else if (fs instanceof TmpfsFS) fs.reconfigure(tmpfsGiven(t, data));
  else if (fs instanceof CgroupFS) checkCgroup2Options(data);
}

export function newFileSystem(t: Task, type: string, data: string): { fs: FileSystem; root: Inode; rootDentry?: Dentry } {
  switch (type) {
    case 'tmpfs': {
      const fs = new TmpfsFS(t.kernel.mf, { params: tmpfsParams(t, tmpfsGiven(t, data)) });
      return { fs, root: fs.root };
    }
    case 'ramfs': {
      const fs = new RamfsFS(t.kernel.mf, parseRamfsMode(data));
      return { fs, root: fs.root };
    }
    case 'proc': return newProcFS(t.kernel, t.threadPid.ns);
    case 'sysfs': return newSysFS(t.kernel);
    case 'cgroup2': {
      checkCgroup2Options(data);
      const fs = new CgroupFS(t.kernel, cgroupNsRoot(t));
      return { fs, root: fs.root };
    }
    case 'devpts': {
      const fs = new DevptsFS(t.kernel);
      fs.configure(data);
      return { fs, root: fs.root, rootDentry: fs.rootDentry };
    }
    default: return fail(ENODEV);
  }
}

/** Whether anything holds m or a mount below it: a task's open file, working directory, or
 *  a mount of its own below (propagate_mount_busy's reference count). */
function busy(t: Task, ns: MountNamespace, m: Mount, lazy: boolean): boolean {
  if (!lazy && ns.childrenOf(m).length > 0) return true;
  const inside = new Set(ns.subtree(m));
  for (const task of t.kernel.tasks.values()) {
    if (task.exited) continue;
    const cwd = knownCwd(task);
    if (cwd !== undefined && inside.has(cwd.mount)) return true;
    for (const fd of task.fdTable.fds()) {
      const f = task.fdTable.get(fd);
      if (f instanceof VfsFile && inside.has(f.vd.mount)) return true;
    }
  }
  return false;
}

function doBind(t: Task, ns: MountNamespace, target: VirtualDentry, source: string, recurse: boolean): void {
  if (source === '') fail(EINVAL);
  const from = locateVd(t, AT_FDCWD, source, true);
  if (from.mount.propagation === 'unbindable') fail(EINVAL);
  if (from.inode.isDir !== target.inode.isDir) fail(ENOTDIR);
  graftTree(ns, cloneTree(ns, from, recurse), target);
}


function propagationOf(flags: number): Propagation {
  const p = flags & MS_PROPAGATION;
  // Exactly one type (with MS_REC and MS_SILENT the only company).
  if ((flags & ~(MS_PROPAGATION | MS_REC | MS_SILENT)) !== 0 || (p & (p - 1)) !== 0) fail(EINVAL);
  return p === MS_SHARED ? 'shared' : p === MS_SLAVE ? 'slave' : p === MS_UNBINDABLE ? 'unbindable' : 'private';
}

function sysMount(t: Task, a: SyscallArgs): number {
  const sourceAddr = a.ptr(0), typeAddr = a.ptr(2), dataAddr = a.ptr(4);
  let flags = Number(a.u64(3) & 0xffffffffn);
  const type = typeAddr !== 0 ? t.mm.readCString(typeAddr, 4096) : '';
  const source = sourceAddr !== 0 ? copyInPath(t, sourceAddr) : '';
  const data = readData(t, dataAddr);
  const target = locateVd(t, AT_FDCWD, copyInPath(t, a.ptr(1)), true);
  if (((flags & MS_MGC_MSK) >>> 0) === MS_MGC_VAL) flags &= ~MS_MGC_MSK;
  if ((flags & MS_NOUSER) !== 0) fail(EINVAL);
  landlockDenyMount(t.creds); // security_sb_mount
  if (!t.creds.nsCapable(nsproxyOf(t).mnt.userNs, CAP_SYS_ADMIN)) fail(EPERM); // may_mount
  const ns = resolveContext(t).ns;
  const m = target.mount;

  if ((flags & MS_REMOUNT) !== 0) {
    if (!isMountRoot(target)) fail(EINVAL);
    const f = mountFlags(flags);
    // MS_BIND: the mount's own flags only; otherwise also the file system's options, checked
    // whole before the flags change (reconfigure_super before the mount's flags).
    if ((flags & MS_BIND) === 0) reconfigure(t, m.fs, data);
    m.flags = { ...m.flags, ...f };
    return 0;
  }
  if ((flags & MS_BIND) !== 0) {
    doBind(t, ns, target, source, (flags & MS_REC) !== 0);
    return 0;
  }
  if ((flags & MS_PROPAGATION) !== 0) {
    const p = propagationOf(flags);
    if (!isMountRoot(target)) fail(EINVAL);
    for (const x of (flags & MS_REC) !== 0 ? ns.subtree(m) : [m]) x.propagation = p;
    return 0;
  }
  if ((flags & MS_MOVE) !== 0) {
    if (source === '') fail(EINVAL);
    const from = locateVd(t, AT_FDCWD, source, true);
    if (!isMountRoot(from) || from.mount.parent === null) fail(EINVAL);
    if (from.inode.isDir !== target.inode.isDir) fail(ENOTDIR);
    moveMount(ns, from.mount, target);
    return 0;
  }
  if (type === '') fail(EINVAL);
  if ((flags & ~(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME |
    MS_STRICTATIME | MS_SILENT | MS_NOSYMFOLLOW | 0x10 | 0x40 | 0x80 | (1 << 16) | (1 << 23) | (1 << 25))) !== 0) fail(EINVAL);
  if (type === 'bdev' || type === 'ext4' || type === 'ext2' || type === 'xfs' || type === 'btrfs' || type === 'vfat') {
    // Block-device file systems: no block devices in the sandbox.
    fail(type === 'ext4' || type === 'ext2' || type === 'xfs' || type === 'btrfs' || type === 'vfat' ? ENOTBLK : ENODEV);
  }
  const { fs, root, rootDentry } = newFileSystem(t, type, data);
  if (!target.inode.isDir) fail(ENOTDIR);
  const nm = ns.mount(target, fs, root, mountFlags(flags), rootDentry);
  nm.source = source === '' ? 'none' : source;
  return 0;
}

/** MS_MOVE (and move_mount of an attached mount): m and its submounts go to vd, not into
 *  themselves (ELOOP). */
export function moveMount(ns: MountNamespace, m: Mount, vd: VirtualDentry): void {
  for (let x: Mount | null = vd.mount; x !== null; x = x.parent) if (x === m) fail(ELOOP);
  ns.move(m, vd);
}

function sysUmount2(t: Task, a: SyscallArgs): number {
  const flags = a.int(1);
  if ((flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW)) !== 0) fail(EINVAL);
  if (!t.creds.nsCapable(nsproxyOf(t).mnt.userNs, CAP_SYS_ADMIN)) fail(EPERM); // may_mount
  const ns = resolveContext(t).ns;
  // LOOKUP_MOUNTPOINT: the final place is followed down its mounts even where a walk does not
  // cross them ("." on a directory something is mounted on: pivot_root(".", ".")).
  const vd = crossDown(ns, locateVd(t, AT_FDCWD, copyInPath(t, a.ptr(0)), (flags & UMOUNT_NOFOLLOW) === 0));
  if (!isMountRoot(vd)) fail(EINVAL);
  landlockDenyMount(t.creds); // do_umount's security_sb_umount
  const m = vd.mount;
  if ((flags & MNT_EXPIRE) !== 0 && (flags & (MNT_FORCE | MNT_DETACH)) !== 0) fail(EINVAL);
  // The namespace's root goes only lazily (and then the namespace keeps working from it).
  if (m.parent === null) fail((flags & MNT_DETACH) !== 0 ? EINVAL : EBUSY);
  const lazy = (flags & MNT_DETACH) !== 0;
  if (!lazy && busy(t, ns, m, false)) fail(EBUSY);
  if ((flags & MNT_EXPIRE) !== 0) {
    // The first expiry request marks the mount and says EAGAIN; a second unmounts it.
    if (!expiring.has(m)) { expiring.add(m); fail(EAGAIN); }
  }
  ns.umount(m);
  return 0;
}

const expiring = new WeakSet<Mount>();

export function registerMount(table: SyscallTable): void {
  table[SYS_mount] = { name: 'mount', handler: sysMount, args: ['path', 'path', 'path', 'hex', 'ptr'] };
  table[SYS_umount2] = { name: 'umount2', handler: sysUmount2, args: ['path', 'hex'] };
}

