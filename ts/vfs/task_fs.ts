// Where a task stands in the VFS: its mount namespace (the kernel's initial one, or a copy:
// kernel/ns/mnt_ns.ts) and
// each FSContext's working directory as a VirtualDentry. The FSContext keeps `cwd` as a path
// string (getcwd's fallback, and what a forked FSContext copies); the dentry is kept beside
// it here so that a renamed working directory stays the same directory. A context without a
// dentry (a fresh copy) resolves its string once.

import type { Kernel } from '../kernel/kernel';
import type { FSContext, Task } from '../kernel/task';
import type { Credentials } from '../kernel/credentials';
import { SyscallError } from '../kernel/syscall_error';
import { EBADF, ENOENT, ENOTDIR } from '../abi/linux/errno';
import { AT_FDCWD } from '../abi/linux/fcntl';
import type { Mount, MountNamespace } from './mount';
import { nsproxyOf } from '../kernel/ns/nsproxy';
import { walk, type ResolveContext } from './resolve';
import { VirtualDentry } from './virtual_dentry';
import { VfsFile } from './vfs_file';

const namespaces = new WeakMap<Kernel, MountNamespace>();
const cwds = new WeakMap<FSContext, VirtualDentry>();
let defaultFactory: ((kernel: Kernel) => MountNamespace) | null = null;

/** The sandbox's root file system (see fsimpl/root.ts). */
export function installMountNamespace(kernel: Kernel, ns: MountNamespace): void {
  namespaces.set(kernel, ns);
}

/** What a kernel without an installed namespace gets on first use. */
export function setDefaultMountNamespaceFactory(f: (kernel: Kernel) => MountNamespace): void {
  defaultFactory = f;
}

export function mountNamespaceOf(kernel: Kernel): MountNamespace {
  let ns = namespaces.get(kernel);
  if (!ns) {
    if (!defaultFactory) throw new SyscallError(ENOENT);
    ns = defaultFactory(kernel);
    namespaces.set(kernel, ns);
  }
  return ns;
}

export function rootOf(kernel: Kernel): VirtualDentry {
  return mountNamespaceOf(kernel).rootVd;
}

/** The mount tree of t's mount namespace. */
export function taskMountNamespace(t: Task): MountNamespace {
  return nsproxyOf(t).mnt.tree;
}

/** t's root: where chroot(2) put it, else its mount namespace's root. */
export function taskRoot(t: Task): VirtualDentry {
  return t.fs.root ?? taskMountNamespace(t).rootVd;
}

/** Whether t's root is not its mount namespace's (current_chrooted). */
export function isChrooted(t: Task): boolean {
  return t.fs.root !== undefined && !t.fs.root.equals(taskMountNamespace(t).rootVd);
}

/** A task moved into a copy of its mount namespace keeps its working directory, now in the
 *  copy (copy_mnt_ns's fs->pwd update); `from` is the FSContext it had before. */
export function moveCwdToCopy(t: Task, from: FSContext, copies: ReadonlyMap<Mount, Mount>): void {
  // A chroot moves too.
  const root = from.root;
  if (root !== undefined) {
    const rm = copies.get(root.mount);
    t.fs.root = rm !== undefined ? new VirtualDentry(rm, root.dentry) : undefined;
  }
  const vd = cwds.get(from);
  if (vd === undefined) return;
  const m = copies.get(vd.mount);
  if (m !== undefined) cwds.set(t.fs, new VirtualDentry(m, vd.dentry));
}

export function resolveContext(t: Task, creds: Credentials = t.creds): ResolveContext {
  const ns = taskMountNamespace(t);
  return { t, ns, root: t.fs.root ?? ns.rootVd, creds };
}

/**
 * chroot_fs_refs around `swap` (pivot_root's change of ns's tree): every task whose root or
 * working directory is `from` afterwards has `to` instead. Working directories known only as
 * strings are resolved first, so that they keep naming the directory they named.
 */
export function moveFsRefs(kernel: Kernel, ns: MountNamespace, swap: () => void, from: VirtualDentry, to: VirtualDentry): void {
  const live = [...kernel.tasks.values()].filter((x) => !x.exited);
  for (const x of live) cwdOf(x);
  swap();
  // A root left implicit (the namespace's) follows the namespace's new root by itself.
  for (const x of live) if (x.fs.root !== undefined && taskMountNamespace(x) === ns && x.fs.root.equals(from)) x.fs.root = to;
  for (const x of live) {
    const cwd = knownCwd(x);
    if (cwd === undefined) continue;
    if (cwd.equals(from)) setCwd(x, to);
    else x.fs.cwd = cwd.path(taskRoot(x));
  }
}

/** The working directory of t (resolving the FSContext's path the first time). */
export function cwdOf(t: Task): VirtualDentry {
  const known = cwds.get(t.fs);
  if (known) return known;
  const ctx = resolveContext(t);
  try {
    const vd = walk(ctx, ctx.root, t.fs.cwd, { follow: true }).vd;
    if (vd && vd.inode.isDir) {
      cwds.set(t.fs, vd);
      return vd;
    }
  } catch {
    // Not reachable in the sandbox: the root stands in, and the string stays what getcwd says.
  }
  return ctx.root;
}

/** The working directory if the VFS knows it as a dentry (getcwd then reports its current
 *  path; otherwise the FSContext's string). */
export function knownCwd(t: Task): VirtualDentry | undefined {
  return cwds.get(t.fs);
}

/** chdir/fchdir: the new working directory (its path string too, for getcwd). */
export function setCwd(t: Task, vd: VirtualDentry): void {
  cwds.set(t.fs, vd);
  t.fs.cwd = vd.path(taskRoot(t));
}

/** Where a relative path given with dirfd starts: the cwd for AT_FDCWD, else the directory
 *  open at dirfd (EBADF if none, ENOTDIR if not a directory). */
export function startOf(t: Task, dirfd: number, path: string): VirtualDentry {
  if (path.charCodeAt(0) === 47 && path !== '') return taskRoot(t);
  if (dirfd === AT_FDCWD) return cwdOf(t);
  const f = t.fdTable.get(dirfd);
  if (!f) throw new SyscallError(EBADF);
  if (!(f instanceof VfsFile)) throw new SyscallError(ENOTDIR);
  if (path !== '' && !f.vd.inode.isDir) throw new SyscallError(ENOTDIR);
  return f.vd;
}
