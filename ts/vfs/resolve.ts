// Path resolution (Linux namei.c link_path_walk/walk_component, gVisor vfs.ResolvingPath).
// Component by component from the root or the start directory: search permission on every
// directory passed, '..' never above the root and across mount roots to the mount point,
// mount points crossed going down, symlinks expanded in place (at most MAXSYMLINKS in one
// walk, then ELOOP), magic links (/proc/<pid>/fd/N) jumping straight to their file, and a
// trailing '/' meaning "this must be a directory" (ENOTDIR otherwise).

import type { Task } from '../kernel/task';
import type { Credentials } from '../kernel/credentials';
import { SyscallError } from '../kernel/syscall_error';
import { ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, EXDEV } from '../abi/linux/errno';
import { MAXSYMLINKS, NAME_MAX } from '../abi/linux/fs';
import type { FileDescription } from './file_description';
import type { MountNamespace } from './mount';
import { MAY_EXEC, checkPermission } from './permission';
import { VirtualDentry } from './virtual_dentry';
import { stringByteLength } from '../abi/byte_string';

export interface ResolveContext {
  /** The caller, or null before any task exists (the sandbox's first exec). */
  t: Task | null;
  ns: MountNamespace;
  root: VirtualDentry;
  creds: Credentials;
}

export interface WalkOptions {
  /** Follow a symlink in the last component (a trailing '/' always does). */
  follow: boolean;
  /** A missing last component is not ENOENT: the result has vd null (O_CREAT). */
  allowMissing?: boolean;
  /** Stop before the last component and return it unresolved (unlink, mkdir, rename...). */
  parentOnly?: boolean;
  /** openat2 RESOLVE_NO_SYMLINKS / RESOLVE_NO_MAGICLINKS / RESOLVE_NO_XDEV / RESOLVE_BENEATH. */
  noSymlinks?: boolean;
  noMagicLinks?: boolean;
  noXdev?: boolean;
  beneath?: boolean;
}

export interface WalkResult {
  /** What the path names; null if parentOnly, or missing under allowMissing. */
  vd: VirtualDentry | null;
  /** An open file with no place in the tree, reached through a magic link. */
  file?: FileDescription;
  /** The directory holding the last component. */
  parent: VirtualDentry;
  /** The last component as written: '.' or '..' are possible, '' for the root itself. */
  name: string;
  /** The path ended in '/': the last component must be a directory. */
  mustBeDir: boolean;
}

function checkName(name: string): void {
  // NAME_MAX counts bytes; most names are ASCII, so measure only when it could matter.
  if (name.length > NAME_MAX / 3 && stringByteLength(name) > NAME_MAX) throw new SyscallError(ENAMETOOLONG);
}

export function walk(ctx: ResolveContext, start: VirtualDentry, path: string, opts: WalkOptions): WalkResult {
  if (path === '') throw new SyscallError(ENOENT);
  const scope = opts.beneath ? start : ctx.root;
  let cur = path.charCodeAt(0) === 47 /* / */ ? ctx.root : start;
  if (opts.beneath && path.charCodeAt(0) === 47) throw new SyscallError(EXDEV);
  // Remaining components, last first, so a symlink's target can be pushed in front.
  const stack: string[] = [];
  pushComponents(stack, path);
  let mustBeDir = path.charCodeAt(path.length - 1) === 47;
  let parent = cur;
  let links = 0;
  if (stack.length === 0) return { vd: cur, parent: cur, name: '', mustBeDir: true };
  while (stack.length > 0) {
    const name = stack.pop()!;
    const last = stack.length === 0;
    checkName(name);
    if (!cur.inode.isDir) throw new SyscallError(ENOTDIR);
    checkPermission(ctx.creds, cur.inode, MAY_EXEC);
    parent = cur;
    if (last && opts.parentOnly) return { vd: null, parent: cur, name, mustBeDir };
    if (name === '.') continue;
    if (name === '..') {
      if (opts.beneath && cur.equals(scope)) throw new SyscallError(EXDEV);
      cur = dotdot(ctx, cur, opts);
      continue;
    }
    // The names still to go ride along: a remote file system may fetch them in one trip.
    const d = cur.dentry.lookup(name, stack);
    if (!d) {
      if (last && opts.allowMissing) return { vd: null, parent: cur, name, mustBeDir };
      throw new SyscallError(ENOENT);
    }
    const child = crossDown(ctx.ns, new VirtualDentry(cur.mount, d), opts);
    if (child.inode.isSymlink && (!last || opts.follow || mustBeDir)) {
      // pick_link: the link's own mount decides (nosymfollow), magic links included.
      if (opts.noSymlinks || child.mount.flags.nosymfollow || ++links > MAXSYMLINKS) throw new SyscallError(ELOOP);
      const magic = child.inode.magicLink(ctx.t);
      if (magic) {
        if (opts.noMagicLinks || opts.beneath) throw new SyscallError(ELOOP);
        if ('file' in magic) {
          if (!last || mustBeDir) throw new SyscallError(ENOTDIR);
          return { vd: null, file: magic.file, parent, name, mustBeDir };
        }
        cur = magic.vd;
        continue;
      }
      const target = child.inode.readlink(ctx.t);
      if (target === '') throw new SyscallError(ENOENT);
      if (target.charCodeAt(0) === 47) {
        if (opts.beneath) throw new SyscallError(EXDEV);
        cur = ctx.root;
      }
      if (last && target.charCodeAt(target.length - 1) === 47) mustBeDir = true;
      pushComponents(stack, target);
      if (stack.length === 0) stack.push('.'); // the link names "/": its root is the answer
      continue;
    }
    cur = child;
  }
  if (mustBeDir && !cur.inode.isDir) throw new SyscallError(ENOTDIR);
  return { vd: cur, parent, name: cur.dentry.name, mustBeDir };
}

/** Pushes path's non-empty components onto stack, last first (one pass, no split/filter:
 *  every path lookup goes through here). */
function pushComponents(stack: string[], path: string): void {
  let end = path.length;
  for (let i = end - 1; i >= -1; i--) {
    if (i >= 0 && path.charCodeAt(i) !== 47) continue;
    if (end > i + 1) stack.push(path.slice(i + 1, end));
    end = i;
  }
}

/** '..': stays at the root; from a mount's root, climbs to its mount point first. */
function dotdot(ctx: ResolveContext, cur: VirtualDentry, opts: WalkOptions): VirtualDentry {
  let mount = cur.mount;
  let d = cur.dentry;
  for (;;) {
    if (mount === ctx.root.mount && d === ctx.root.dentry) return cur;
    if (d !== mount.root) break;
    if (!mount.parent || !mount.mountpoint) return new VirtualDentry(mount, d);
    if (opts.noXdev) throw new SyscallError(EXDEV);
    d = mount.mountpoint;
    mount = mount.parent;
  }
  return crossDown(ctx.ns, new VirtualDentry(mount, d.parent ?? d), opts);
}

/** Step onto whatever is mounted at vd (repeatedly: mounts can stack). */
export function crossDown(ns: MountNamespace, vd: VirtualDentry, opts: WalkOptions = { follow: true }): VirtualDentry {
  let m = ns.mountedAt(vd.mount, vd.dentry);
  if (!m) return vd;
  if (opts.noXdev) throw new SyscallError(EXDEV);
  let out = vd;
  while (m) {
    out = new VirtualDentry(m, m.root);
    m = ns.mountedAt(m, m.root);
  }
  return out;
}
