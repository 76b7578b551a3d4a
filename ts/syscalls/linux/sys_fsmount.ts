// The new mount API (Linux fs/fsopen.c, fs/namespace.c): fsopen and fspick make a file system
// context (vfs/fs_context.ts), fsconfig gives it parameters and creates or reconfigures,
// fsmount makes a detached mount of what it created, open_tree opens a place or clones its
// mount tree detached, move_mount attaches a detached tree or moves a mount, mount_setattr
// changes mount attributes (recursively with AT_RECURSIVE). The file systems are those of
// mount(2) (sys_mount.ts), with the same option parsers. Checks in Linux's order. Not done:
// MOUNT_ATTR_IDMAP, MOVE_MOUNT_SET_GROUP and MOVE_MOUNT_BENEATH, and
// the superblock flags among fsconfig's keys other than ro/rw (EINVAL); setting a mount
// read-only does not wait for files open for writing (EBUSY on Linux).

import { landlockDenyMount } from '../../kernel/landlock/domain';
import type { Task } from '../../kernel/task';
import { SyscallError, fail } from '../../kernel/syscall_error';
import { E2BIG, EBADF, EBUSY, EINVAL, ENAMETOOLONG, ENODEV, ENOTSUP as EOPNOTSUPP, EPERM } from '../../abi/linux/errno';
import { CAP_SYS_ADMIN } from '../../kernel/capabilities';
import {
  SYS_fsconfig, SYS_fsmount, SYS_fsopen, SYS_fspick, SYS_mount_setattr, SYS_move_mount, SYS_open_tree,
} from '../../abi/linux/syscall_numbers';
import { AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_SYMLINK_NOFOLLOW, O_CLOEXEC, O_PATH } from '../../abi/linux/fcntl';
import type { SyscallArgs, SyscallTable } from './types';
import { copyInPath } from './path';
import { getFile, nofileLimit } from './fd_util';
import { locateVd } from '../../vfs/lookup';
import { resolveContext } from '../../vfs/task_fs';
import { nsproxyOf } from '../../kernel/ns/nsproxy';
import { Mount, type MountFlags, type Propagation } from '../../vfs/mount';
import { VirtualDentry } from '../../vfs/virtual_dentry';
import { PathFile } from '../../vfs/vfs_file';
import type { FileDescription } from '../../vfs/file_description';
import { FsContext } from '../../vfs/fs_context';
import { cloneTree, detachedMount, graftTree, isDetached, treeOf } from '../../vfs/mount_tree';
import { devptsOf } from '../../fsimpl/devpts/devpts_fs';
import { parseRamfsMode } from '../../fsimpl/tmpfs/ramfs';
import { CGROUP2_OPTIONS, checkCgroup2Options } from '../../fsimpl/cgroupfs/cgroupfs';
import { isMountRoot, moveMount, newFileSystem, reconfigure, tmpfsGiven } from './sys_mount';

const FSOPEN_CLOEXEC = 1, FSMOUNT_CLOEXEC = 1;
const FSCONFIG_SET_FLAG = 0, FSCONFIG_SET_STRING = 1, FSCONFIG_SET_BINARY = 2, FSCONFIG_SET_PATH = 3,
  FSCONFIG_SET_PATH_EMPTY = 4, FSCONFIG_SET_FD = 5, FSCONFIG_CMD_CREATE = 6, FSCONFIG_CMD_RECONFIGURE = 7,
  FSCONFIG_CMD_CREATE_EXCL = 8;
const MOUNT_ATTR_RDONLY = 0x1, MOUNT_ATTR_NOSUID = 0x2, MOUNT_ATTR_NODEV = 0x4, MOUNT_ATTR_NOEXEC = 0x8,
  MOUNT_ATTR__ATIME = 0x70, MOUNT_ATTR_RELATIME = 0, MOUNT_ATTR_NOATIME = 0x10, MOUNT_ATTR_STRICTATIME = 0x20,
  MOUNT_ATTR_NODIRATIME = 0x80, MOUNT_ATTR_IDMAP = 0x100000, MOUNT_ATTR_NOSYMFOLLOW = 0x200000;
/** The attributes Linux knows; IDMAP among them is refused here (see top). */
const MOUNT_ATTR_KNOWN = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
  MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSYMFOLLOW;
const MOUNT_ATTR_DONE = MOUNT_ATTR_KNOWN & ~MOUNT_ATTR_IDMAP;
const MOVE_MOUNT_F_SYMLINKS = 0x1, MOVE_MOUNT_F_AUTOMOUNTS = 0x2, MOVE_MOUNT_F_EMPTY_PATH = 0x4,
  MOVE_MOUNT_T_SYMLINKS = 0x10, MOVE_MOUNT_T_AUTOMOUNTS = 0x20, MOVE_MOUNT_T_EMPTY_PATH = 0x40,
  MOVE_MOUNT_SET_GROUP = 0x100, MOVE_MOUNT_BENEATH = 0x200;
const MOVE_MOUNT_MASK = 0x377;
const OPEN_TREE_CLONE = 1, AT_RECURSIVE = 0x8000;
const FSPICK_CLOEXEC = 1, FSPICK_SYMLINK_NOFOLLOW = 2, FSPICK_NO_AUTOMOUNT = 4, FSPICK_EMPTY_PATH = 8;
const MS_UNBINDABLE = 1 << 17, MS_PRIVATE = 1 << 18, MS_SLAVE = 1 << 19, MS_SHARED = 1 << 20;
/** sizeof(struct mount_attr) of its first version; at most a page is read. */
const MOUNT_ATTR_SIZE_VER0 = 32, PAGE_SIZE = 4096;
/** The file systems a context can be opened for (mount(2)'s). */
const TYPES = new Set(['tmpfs', 'ramfs', 'proc', 'sysfs', 'devpts', 'cgroup2']);
const TMPFS_KEYS = new Set(['size', 'nr_blocks', 'nr_inodes', 'mode', 'uid', 'gid', 'huge', 'mpol', 'inode32', 'inode64', 'noswap']);
const DEVPTS_KEYS = new Set(['uid', 'gid', 'mode', 'ptmxmode', 'max', 'newinstance']);

/** may_mount: CAP_SYS_ADMIN over the caller's mount namespace. */
function mayMount(t: Task): void {
  if (!t.creds.nsCapable(nsproxyOf(t).mnt.userNs, CAP_SYS_ADMIN)) fail(EPERM);
}

function install(t: Task, f: FileDescription, cloexec: boolean): number {
  try {
    return t.fdTable.newFD(f, { cloexec, limit: nofileLimit(t) });
  } finally {
    f.decRef();
  }
}

function contextOf(t: Task, fd: number): FsContext {
  const f = getFile(t, fd);
  if (!(f instanceof FsContext)) fail(EINVAL);
  return f;
}

/** strndup_user(s, 256): EINVAL for a longer string. */
function shortString(t: Task, addr: number): string {
  try {
    return t.mm.readCString(addr, 256);
  } catch (e) {
    if (e instanceof SyscallError && e.errno === ENAMETOOLONG) fail(EINVAL);
    throw e;
  }
}

function sysFsopen(t: Task, a: SyscallArgs): number {
  mayMount(t);
  const flags = a.uint(1);
  if ((flags & ~FSOPEN_CLOEXEC) !== 0) fail(EINVAL);
  const type = t.mm.readCString(a.ptr(0), 4096);
  if (!TYPES.has(type)) fail(ENODEV);
  return install(t, new FsContext(t, type, 'create-params'), (flags & FSOPEN_CLOEXEC) !== 0);
}

/**
 * vfs_parse_fs_param for one parameter: the file system's own (its parser checks the value;
 * nothing applies until create or reconfigure), then "source". A string value or none (a
 * flag); binary, path and fd values are for no parameter of these file systems.
 */
function setParam(t: Task, ctx: FsContext, key: string, value: string | null, isString: boolean): void {
  const opt = value === null ? key : `${key}=${value}`;
  const known = ctx.fsType === 'tmpfs' ? TMPFS_KEYS.has(key) : ctx.fsType === 'devpts' ? DEVPTS_KEYS.has(key)
    : ctx.fsType === 'ramfs' ? key === 'mode' : ctx.fsType === 'cgroup2' ? CGROUP2_OPTIONS.has(key) : false;
  if (known) {
    try {
      if (!isString) fail(EINVAL);
      if (ctx.fsType === 'tmpfs') tmpfsGiven(t, opt);
      else if (ctx.fsType === 'devpts') devptsOf(t.kernel).parseOptions(opt);
      else if (ctx.fsType === 'cgroup2') checkCgroup2Options(opt);
      else parseRamfsMode(opt);
    } catch (e) {
      if (e instanceof SyscallError && e.errno === EINVAL) ctx.error(`${ctx.fsType}: Bad value for '${key}'`);
      throw e;
    }
    ctx.params.push(opt);
    return;
  }
  if (key === 'source') {
    if (!isString || value === null) { ctx.error('Non-string source'); fail(EINVAL); }
    if (ctx.source !== null) { ctx.error('Multiple sources'); fail(EINVAL); }
    ctx.source = value;
    return;
  }
  if (ctx.fsType === 'ramfs') return; // ramfs takes any other option and ignores it
  ctx.error(`${ctx.fsType}: Unknown parameter '${key}'`);
  fail(EINVAL);
}

function sysFsconfig(t: Task, a: SyscallArgs): number {
  const fd = a.int(0), cmd = a.int(1), keyAddr = a.ptr(2), valueAddr = a.ptr(3), aux = a.int(4);
  if (fd < 0) fail(EINVAL);
  switch (cmd) {
    case FSCONFIG_SET_FLAG: if (keyAddr === 0 || valueAddr !== 0 || aux !== 0) fail(EINVAL); break;
    case FSCONFIG_SET_STRING: if (keyAddr === 0 || valueAddr === 0 || aux !== 0) fail(EINVAL); break;
    case FSCONFIG_SET_BINARY: if (keyAddr === 0 || valueAddr === 0 || aux <= 0 || aux > 1 << 20) fail(EINVAL); break;
    case FSCONFIG_SET_PATH: case FSCONFIG_SET_PATH_EMPTY:
      if (keyAddr === 0 || valueAddr === 0 || (aux !== AT_FDCWD && aux < 0)) fail(EINVAL);
      break;
    case FSCONFIG_SET_FD: if (keyAddr === 0 || valueAddr !== 0 || aux < 0) fail(EINVAL); break;
    case FSCONFIG_CMD_CREATE: case FSCONFIG_CMD_CREATE_EXCL: case FSCONFIG_CMD_RECONFIGURE:
      if (keyAddr !== 0 || valueAddr !== 0 || aux !== 0) fail(EINVAL);
      break;
    default: fail(EOPNOTSUPP);
  }
  const ctx = contextOf(t, fd);
  const key = keyAddr !== 0 ? shortString(t, keyAddr) : '';
  let value: string | null = null;
  if (cmd === FSCONFIG_SET_STRING) value = shortString(t, valueAddr);
  else if (cmd === FSCONFIG_SET_BINARY) t.mm.copyIn(valueAddr, aux);
  else if (cmd === FSCONFIG_SET_PATH || cmd === FSCONFIG_SET_PATH_EMPTY) copyInPath(t, valueAddr);
  else if (cmd === FSCONFIG_SET_FD) getFile(t, aux);
  switch (cmd) {
    case FSCONFIG_CMD_CREATE: case FSCONFIG_CMD_CREATE_EXCL: {
      if (ctx.phase !== 'create-params') fail(EBUSY);
      mayMount(t);
      try {
        ctx.created = newFileSystem(t, ctx.fsType, ctx.params.join(','));
      } catch (e) {
        ctx.phase = 'failed';
        throw e;
      }
      ctx.phase = 'awaiting-mount';
      return 0;
    }
    case FSCONFIG_CMD_RECONFIGURE: {
      if (ctx.phase !== 'reconf-params' || ctx.target === null) fail(EBUSY);
      try {
        reconfigure(t, ctx.target.fs, ctx.params.join(','));
      } catch (e) {
        ctx.phase = 'failed';
        throw e;
      }
      ctx.params.length = 0; // vfs_clean_context: ready for the next reconfigure
      return 0;
    }
    default:
      if (ctx.phase !== 'create-params' && ctx.phase !== 'reconf-params') fail(EBUSY);
      setParam(t, ctx, key, value, cmd === FSCONFIG_SET_STRING || cmd === FSCONFIG_SET_FLAG);
      return 0;
  }
}

/** MOUNT_ATTR_* to a mount's flags; EINVAL for an atime value that is none of the three. */
function attrFlags(attr: number): MountFlags {
  const atime = attr & MOUNT_ATTR__ATIME;
  if (atime !== MOUNT_ATTR_RELATIME && atime !== MOUNT_ATTR_NOATIME && atime !== MOUNT_ATTR_STRICTATIME) fail(EINVAL);
  return {
    readonly: (attr & MOUNT_ATTR_RDONLY) !== 0, nosuid: (attr & MOUNT_ATTR_NOSUID) !== 0,
    nodev: (attr & MOUNT_ATTR_NODEV) !== 0, noexec: (attr & MOUNT_ATTR_NOEXEC) !== 0,
    nodiratime: (attr & MOUNT_ATTR_NODIRATIME) !== 0, nosymfollow: (attr & MOUNT_ATTR_NOSYMFOLLOW) !== 0,
    atime: atime === MOUNT_ATTR_NOATIME ? 'noatime' : atime === MOUNT_ATTR_STRICTATIME ? 'strictatime' : 'relatime',
  };
}

function sysFsmount(t: Task, a: SyscallArgs): number {
  mayMount(t);
  const flags = a.uint(1), attr = a.uint(2);
  if ((flags & ~FSMOUNT_CLOEXEC) !== 0) fail(EINVAL);
  if ((attr & ~MOUNT_ATTR_DONE) !== 0) fail(EINVAL);
  const mflags = attrFlags(attr);
  const ctx = contextOf(t, a.int(0));
  if (ctx.created === null && ctx.target === null) fail(EINVAL); // no file system yet
  if (ctx.phase !== 'awaiting-mount' || ctx.created === null) fail(EBUSY);
  const { fs, root, rootDentry } = ctx.created;
  const m = detachedMount(new Mount(fs, root, null, null, mflags, rootDentry));
  m.source = ctx.source ?? 'none';
  ctx.phase = 'mounted';
  return install(t, new PathFile(O_PATH, new VirtualDentry(m, m.root)), (flags & FSMOUNT_CLOEXEC) !== 0);
}

/** A place named by (dfd, path) as the *at calls' flags say. */
function place(t: Task, dfd: number, addr: number, follow: boolean, emptyPath: boolean): VirtualDentry {
  return locateVd(t, dfd, copyInPath(t, addr), follow, emptyPath);
}

function sysMoveMount(t: Task, a: SyscallArgs): number {
  mayMount(t);
  landlockDenyMount(t.creds); // security_move_mount
  const flags = a.uint(4);
  if ((flags & ~MOVE_MOUNT_MASK) !== 0) fail(EINVAL);
  if ((flags & (MOVE_MOUNT_SET_GROUP | MOVE_MOUNT_BENEATH)) !== 0) fail(EINVAL); // not done (see top)
  const from = place(t, a.int(0), a.ptr(1), (flags & MOVE_MOUNT_F_SYMLINKS) !== 0, (flags & MOVE_MOUNT_F_EMPTY_PATH) !== 0);
  const to = place(t, a.int(2), a.ptr(3), (flags & MOVE_MOUNT_T_SYMLINKS) !== 0, (flags & MOVE_MOUNT_T_EMPTY_PATH) !== 0);
  const ns = resolveContext(t).ns;
  const m = from.mount;
  const detached = isDetached(m);
  if (!isMountRoot(from)) fail(EINVAL);
  if (!detached && (!ns.has(m) || m.parent === null)) fail(EINVAL);
  if (!ns.has(to.mount)) fail(EINVAL);
  if (from.inode.isDir !== to.inode.isDir) fail(EINVAL);
  if (detached) graftTree(ns, m, to);
  else moveMount(ns, m, to);
  return 0;
}

function sysOpenTree(t: Task, a: SyscallArgs): number {
  const flags = a.uint(2);
  if ((flags & ~(AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW | OPEN_TREE_CLONE | O_CLOEXEC)) !== 0) {
    fail(EINVAL);
  }
  if ((flags & (AT_RECURSIVE | OPEN_TREE_CLONE)) === AT_RECURSIVE) fail(EINVAL);
  const clone = (flags & OPEN_TREE_CLONE) !== 0;
  if (clone) mayMount(t);
  const vd = place(t, a.int(0), a.ptr(1), (flags & AT_SYMLINK_NOFOLLOW) === 0, (flags & AT_EMPTY_PATH) !== 0);
  let at = vd;
  if (clone) {
    const ns = resolveContext(t).ns;
    if (vd.mount.propagation === 'unbindable') fail(EINVAL);
    if (!ns.has(vd.mount) && !isDetached(vd.mount)) fail(EINVAL);
    const m = cloneTree(ns, vd, (flags & AT_RECURSIVE) !== 0);
    at = new VirtualDentry(m, m.root);
  }
  return install(t, new PathFile(O_PATH, at), (flags & O_CLOEXEC) !== 0);
}

function sysFspick(t: Task, a: SyscallArgs): number {
  mayMount(t);
  const flags = a.uint(2);
  if ((flags & ~(FSPICK_CLOEXEC | FSPICK_SYMLINK_NOFOLLOW | FSPICK_NO_AUTOMOUNT | FSPICK_EMPTY_PATH)) !== 0) fail(EINVAL);
  const vd = place(t, a.int(0), a.ptr(1), (flags & FSPICK_SYMLINK_NOFOLLOW) === 0, (flags & FSPICK_EMPTY_PATH) !== 0);
  if (!isMountRoot(vd)) fail(EINVAL);
  return install(t, new FsContext(t, vd.mount.fs.type, 'reconf-params', vd.mount), (flags & FSPICK_CLOEXEC) !== 0);
}

function propagationOf(p: number): Propagation | null {
  if (p === 0) return null;
  if ((p & ~(MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)) !== 0 || (p & (p - 1)) !== 0) fail(EINVAL);
  return p === MS_SHARED ? 'shared' : p === MS_SLAVE ? 'slave' : p === MS_UNBINDABLE ? 'unbindable' : 'private';
}

function sysMountSetattr(t: Task, a: SyscallArgs): number {
  const flags = a.uint(2), size = Number(a.u64(4));
  if ((flags & ~(AT_EMPTY_PATH | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT)) !== 0) fail(EINVAL);
  if (size > PAGE_SIZE) fail(E2BIG);
  if (size < MOUNT_ATTR_SIZE_VER0) fail(EINVAL);
  mayMount(t);
  // copy_struct_from_user: a larger struct from a newer program is fine if its tail is zero.
  const raw = t.mm.copyIn(a.ptr(3), size);
  for (let i = MOUNT_ATTR_SIZE_VER0; i < size; i++) if (raw[i] !== 0) fail(E2BIG);
  const v = new DataView(raw.buffer, raw.byteOffset, MOUNT_ATTR_SIZE_VER0);
  const set = v.getBigUint64(0, true), clr = v.getBigUint64(8, true), prop = v.getBigUint64(16, true);
  if (set === 0n && clr === 0n && prop === 0n) return 0;
  if (prop > 0xffffffffn || set > 0xffffffffn || clr > 0xffffffffn) fail(EINVAL);
  const propagation = propagationOf(Number(prop));
  const attrSet = Number(set), attrClr = Number(clr);
  if (((attrSet | attrClr) & ~MOUNT_ATTR_KNOWN) !== 0) fail(EINVAL);
  if (((attrSet | attrClr) & MOUNT_ATTR_IDMAP) !== 0) fail(EINVAL); // not done
  // The atime values are an enum: changing it takes MOUNT_ATTR__ATIME, whole, in attr_clr.
  let atime: MountFlags['atime'] | undefined;
  if ((attrClr & MOUNT_ATTR__ATIME) !== 0) {
    if ((attrClr & MOUNT_ATTR__ATIME) !== MOUNT_ATTR__ATIME) fail(EINVAL);
    atime = attrFlags(attrSet & MOUNT_ATTR__ATIME).atime;
  } else if ((attrSet & MOUNT_ATTR__ATIME) !== 0) {
    fail(EINVAL);
  }
  const vd = place(t, a.int(0), a.ptr(1), (flags & AT_SYMLINK_NOFOLLOW) === 0, (flags & AT_EMPTY_PATH) !== 0);
  if (!isMountRoot(vd)) fail(EINVAL);
  const ns = resolveContext(t).ns;
  if (!ns.has(vd.mount) && !isDetached(vd.mount)) fail(EINVAL);
  const bits: [number, keyof MountFlags][] = [[MOUNT_ATTR_RDONLY, 'readonly'], [MOUNT_ATTR_NOSUID, 'nosuid'],
    [MOUNT_ATTR_NODEV, 'nodev'], [MOUNT_ATTR_NOEXEC, 'noexec'], [MOUNT_ATTR_NODIRATIME, 'nodiratime'],
    [MOUNT_ATTR_NOSYMFOLLOW, 'nosymfollow']];
  for (const m of (flags & AT_RECURSIVE) !== 0 ? treeOf(ns, vd.mount) : [vd.mount]) {
    const f: MountFlags = { ...m.flags };
    for (const [bit, name] of bits) {
      if ((attrClr & bit) !== 0) (f as Record<string, unknown>)[name] = false;
      if ((attrSet & bit) !== 0) (f as Record<string, unknown>)[name] = true;
    }
    if (atime !== undefined) f.atime = atime;
    m.flags = f;
    if (propagation !== null) m.propagation = propagation;
  }
  return 0;
}

export function registerFsmount(table: SyscallTable): void {
  table[SYS_fsopen] = { name: 'fsopen', handler: sysFsopen, args: ['str', 'hex'] };
  table[SYS_fsconfig] = { name: 'fsconfig', handler: sysFsconfig, args: ['fd', 'int', 'str', 'ptr', 'int'] };
  table[SYS_fsmount] = { name: 'fsmount', handler: sysFsmount, args: ['fd', 'hex', 'hex'] };
  table[SYS_move_mount] = { name: 'move_mount', handler: sysMoveMount, args: ['fd', 'path', 'fd', 'path', 'hex'] };
  table[SYS_open_tree] = { name: 'open_tree', handler: sysOpenTree, args: ['fd', 'path', 'hex'] };
  table[SYS_fspick] = { name: 'fspick', handler: sysFspick, args: ['fd', 'path', 'hex'] };
  table[SYS_mount_setattr] = { name: 'mount_setattr', handler: sysMountSetattr, args: ['fd', 'path', 'hex', 'ptr', 'uint'] };
}
