// Landlock (Linux security/landlock, ABI 2 as in Linux 6.1): an unprivileged process restricts
// its own and its descendants' access to file hierarchies. A domain is a stack of layers, one
// per landlock_restrict_self; each layer handles some access rights and grants them only
// beneath the files and directories its rules name. An access is allowed when every layer
// that handles it has a rule granting it on the file or on one of its ancestors, walking up
// through mount points to the namespace's root (a mount point hidden by a mount does not
// count). Rules name files by identity (Inode.identity()), not by path: a rule follows a file
// through bind mounts and renames, as Linux ties rules to inodes.
// Owns: the domain, its checks, and where the VFS asks for them. Must not touch: DAC
// permission (permission.ts), which is checked as well, in Linux's order.

import { SyscallError } from '../syscall_error';
import { EACCES, EPERM, EXDEV } from '../../abi/linux/errno';
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFSOCK } from '../../abi/linux/stat';
import type { Credentials } from '../credentials';
import type { Dentry } from '../../vfs/dentry';
import type { VirtualDentry } from '../../vfs/virtual_dentry';

export const LANDLOCK_ACCESS_FS_EXECUTE = 1 << 0;
export const LANDLOCK_ACCESS_FS_WRITE_FILE = 1 << 1;
export const LANDLOCK_ACCESS_FS_READ_FILE = 1 << 2;
export const LANDLOCK_ACCESS_FS_READ_DIR = 1 << 3;
export const LANDLOCK_ACCESS_FS_REMOVE_DIR = 1 << 4;
export const LANDLOCK_ACCESS_FS_REMOVE_FILE = 1 << 5;
export const LANDLOCK_ACCESS_FS_MAKE_CHAR = 1 << 6;
export const LANDLOCK_ACCESS_FS_MAKE_DIR = 1 << 7;
export const LANDLOCK_ACCESS_FS_MAKE_REG = 1 << 8;
export const LANDLOCK_ACCESS_FS_MAKE_SOCK = 1 << 9;
export const LANDLOCK_ACCESS_FS_MAKE_FIFO = 1 << 10;
export const LANDLOCK_ACCESS_FS_MAKE_BLOCK = 1 << 11;
export const LANDLOCK_ACCESS_FS_MAKE_SYM = 1 << 12;
export const LANDLOCK_ACCESS_FS_REFER = 1 << 13;
/** Every file-system right of ABI 2. */
export const LANDLOCK_MASK_ACCESS_FS = (1 << 14) - 1;
/** The rights that make sense on a file that is not a directory (ACCESS_FILE). */
export const ACCESS_FILE = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE;
/** Denied by every layer, handled or not (ACCESS_INITIALLY_DENIED): a ruleset of ABI 1 never
 *  lets a file change directory. */
export const ACCESS_INITIALLY_DENIED = LANDLOCK_ACCESS_FS_REFER;
export const LANDLOCK_ABI_VERSION = 2;
/** LANDLOCK_MAX_NUM_LAYERS: nested landlock_restrict_self calls a domain may stack. */
export const LANDLOCK_MAX_NUM_LAYERS = 16;

/** One ruleset as enforced: the rights it handles (REFER always) and, per file, what it grants
 *  (absolute: rights it does not handle are granted everywhere). */
export interface LandlockLayer {
  readonly handled: number;
  readonly rules: ReadonlyMap<object, number>;
}

/** A task's domain (held by its Credentials, so inherited by children and across execve). */
export class LandlockDomain {
  constructor(readonly layers: readonly LandlockLayer[], readonly parent: LandlockDomain | null) {}

  /** The domain after restricting this one (or none) with one more ruleset. */
  static stack(parent: LandlockDomain | null, handled: number, rules: ReadonlyMap<object, number>): LandlockDomain {
    const layer: LandlockLayer = { handled: handled | ACCESS_INITIALLY_DENIED, rules: new Map(rules) };
    return new LandlockDomain([...(parent?.layers ?? []), layer], parent);
  }

  /** domain_scope_le: this domain is `other` or one of its ancestors (so this one's holder may
   *  trace other's). */
  scopes(other: LandlockDomain | null): boolean {
    for (let d = other; d !== null; d = d.parent) if (d === this) return true;
    return false;
  }
}

/** The dentries whose rules count for a place, from it up to the namespace's root: a mount's
 *  root, then the directories above its mount point (the mount point itself is hidden). */
function* ancestry(vd: VirtualDentry): Generator<Dentry> {
  let mount = vd.mount;
  let d: Dentry = vd.dentry;
  for (;;) {
    yield d;
    while (d === mount.root) {
      if (!mount.parent || !mount.mountpoint) return;
      d = mount.mountpoint;
      mount = mount.parent;
    }
    if (!d.parent) return;
    d = d.parent;
  }
}

/** Per layer, the rights of `request` it handles and that no rule on vd or above grants. */
function denied(dom: LandlockDomain, vd: VirtualDentry, request: number, child: Dentry | null = null): number[] {
  const left = dom.layers.map((l) => request & l.handled);
  let pending = left.some((m) => m !== 0);
  const take = (d: Dentry): void => {
    const id = d.inode.identity();
    pending = false;
    for (let i = 0; i < left.length; i++) {
      if (left[i] === 0) continue;
      const granted = dom.layers[i].rules.get(id);
      if (granted !== undefined) left[i] &= ~granted;
      if (left[i] !== 0) pending = true;
    }
  };
  if (child !== null && pending) take(child);
  for (const d of ancestry(vd)) {
    if (!pending) break;
    take(d);
  }
  return left;
}

/** check_access_path: EACCES unless the domain allows `request` at vd. */
export function landlockCheckPath(creds: Credentials, vd: VirtualDentry, request: number): void {
  const dom = creds.landlock;
  if (dom === null || request === 0) return;
  if (denied(dom, vd, request).some((m) => m !== 0)) throw new SyscallError(EACCES);
}

/** The sb_mount, sb_umount, move_mount and sb_pivotroot hooks: a task in a domain changes
 *  no mount (a mount could hide what its rules name). */
export function landlockDenyMount(creds: Credentials): void {
  if (creds.landlock !== null) throw new SyscallError(EPERM);
}

/** get_mode_access: the right that makes a file of this type. */
export function makeAccessOf(mode: number): number {
  switch (mode & S_IFMT) {
    case S_IFLNK: return LANDLOCK_ACCESS_FS_MAKE_SYM;
    case S_IFDIR: return LANDLOCK_ACCESS_FS_MAKE_DIR;
    case S_IFCHR: return LANDLOCK_ACCESS_FS_MAKE_CHAR;
    case S_IFBLK: return LANDLOCK_ACCESS_FS_MAKE_BLOCK;
    case S_IFIFO: return LANDLOCK_ACCESS_FS_MAKE_FIFO;
    case S_IFSOCK: return LANDLOCK_ACCESS_FS_MAKE_SOCK;
    default: return LANDLOCK_ACCESS_FS_MAKE_REG;
  }
}

function removeAccessOf(d: Dentry | null): number {
  if (d === null) return 0;
  return (d.inode.mode & S_IFMT) === S_IFDIR ? LANDLOCK_ACCESS_FS_REMOVE_DIR : LANDLOCK_ACCESS_FS_REMOVE_FILE;
}

/** What the file opened needs (get_required_file_open_access): reading a directory, reading or
 *  writing a file, executing it (execve's open asks for reading too). */
export function openAccess(isDir: boolean, read: boolean, write: boolean, exec = false): number {
  let a = 0;
  if (read) a = isDir ? LANDLOCK_ACCESS_FS_READ_DIR : LANDLOCK_ACCESS_FS_READ_FILE;
  if (write) a |= LANDLOCK_ACCESS_FS_WRITE_FILE;
  if (exec) a |= LANDLOCK_ACCESS_FS_EXECUTE;
  return a;
}

/** current_check_refer_path, for link (rename false) and rename: within one directory the
 *  rights to make and remove the names; across directories also REFER on both, and the file
 *  must not gain a right by moving — per layer, what the source hierarchy (with the file's own
 *  rules) denies, the destination hierarchy must deny too. REFER alone missing is EXDEV (the
 *  caller may copy instead), any other right EACCES. */
export function landlockCheckRefer(creds: Credentials, oldDir: VirtualDentry, oldD: Dentry, newDir: VirtualDentry,
  newD: Dentry | null, rename: boolean, exchange: boolean): void {
  const dom = creds.landlock;
  if (dom === null) return;
  let req1 = exchange && newD ? makeAccessOf(newD.inode.mode) : 0;
  let req2 = makeAccessOf(oldD.inode.mode);
  if (rename) {
    req1 |= removeAccessOf(oldD);
    req2 |= removeAccessOf(newD);
  }
  if (oldDir.dentry === newDir.dentry) {
    if (denied(dom, newDir, req1 | req2).some((m) => m !== 0)) throw new SyscallError(EACCES);
    return;
  }
  req1 |= LANDLOCK_ACCESS_FS_REFER;
  req2 |= LANDLOCK_ACCESS_FS_REFER;
  const all = LANDLOCK_MASK_ACCESS_FS;
  const p1 = denied(dom, oldDir, all);
  const p2 = denied(dom, newDir, all);
  const eacces = (p: number[], req: number): boolean => p.some((m) => (m & req & ~LANDLOCK_ACCESS_FS_REFER) !== 0);
  if (eacces(p1, req1) || eacces(p2, req2)) throw new SyscallError(EACCES);
  const refused = (p: number[], req: number): boolean => p.some((m) => (m & req) !== 0);
  // The moved file's own rules go with it: only what its source hierarchy grants counts.
  const gains = (src: number[], child: Dentry, dst: number[]): boolean => {
    const own = dom.layers.map((l) => {
      const g = l.rules.get(child.inode.identity());
      return g === undefined ? all : ~g & all;
    });
    const scope = child.inode.isDir ? all : ACCESS_FILE;
    return src.some((m, i) => (m & own[i] & scope & ~dst[i]) !== 0);
  };
  if (refused(p1, req1) || refused(p2, req2) || gains(p1, oldD, p2) || (exchange && newD !== null && gains(p2, newD, p1))) {
    throw new SyscallError(EXDEV);
  }
}
