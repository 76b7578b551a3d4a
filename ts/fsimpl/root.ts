// fsimpl: the file system implementations (tmpfs, overlay, the gofer client file systems,
// proc, sys, dev, kernfs helpers), one directory each. They implement the VFS's Inode/
// FileSystem interfaces and must not resolve paths or decode syscalls; only gofer/ reaches the
// host, and only through the gofer's 9P session. This file composes the sandbox's root: its
// --rootfs tree (the host's / by default) from the gofer, read-only under a tmpfs upper layer
// (--overlay=memory: the application may write anywhere and nothing reaches the host) or
// itself writable (--overlay=none); proc, sys, cgroup2 at /sys/fs/cgroup, dev and /dev/shm
// mounted on top, then the --volume trees (writable gofer file systems, or read-only with :ro). A kernel that was given
// no namespace gets one on first use (vfs/task_fs.ts), read in-process (unit tests only).

import type { Kernel } from '../kernel/kernel';
import { Credentials } from '../kernel/credentials';
import { S_IFDIR } from '../abi/linux/stat';
import { EACCES, EEXIST, ENOTDIR } from '../abi/linux/errno';
import { SyscallError } from '../kernel/syscall_error';
import type { FileSystem } from '../vfs/file_system';
import type { Inode } from '../vfs/inode';
import { MountNamespace, type MountFlags } from '../vfs/mount';
import { walk, type ResolveContext } from '../vfs/resolve';
import { VirtualDentry } from '../vfs/virtual_dentry';
import { mkdirAt } from '../vfs/create_ops';
import { setDefaultMountNamespaceFactory } from '../vfs/task_fs';
import { newDevFS } from './dev/dev';
import { devptsOf } from './devpts/devpts_fs';
import type { Dentry } from '../vfs/dentry';
import { HostLowerFS } from './gofer/host_lower';
import { GoferLowerFS } from './gofer/gofer_lower';
import { GoferFS, GoferInode } from './gofer/gofer_fs';
import { SyntheticDir } from './gofer/synthetic_dir';
import { LOWER_TTL_MS, type GoferSession } from './gofer/session';
import type { LowerFS } from './gofer/lower_fs';
import { OverlayFS } from './overlay/overlay';
import { newProcFS } from './proc/proc';
import { newSysFS } from './sys/sys';
import { defaultParams } from './tmpfs/tmpfs_options';
import { CgroupFS } from './cgroupfs/cgroupfs';
import { topCgroup } from '../kernel/cgroup/cgroup';
import { TmpfsFS } from './tmpfs/tmpfs';

/** The sandbox's file systems served by its gofer. */
export interface GoferRoot {
  session: GoferSession;
  /** The gofer tree (Tattach aname) that is the root. */
  rootTree: string;
  /** memory: a tmpfs upper over the tree; none: the tree itself, writable. */
  overlay: 'memory' | 'none';
  /** Gofer trees mounted at paths of the sandbox (--volume). */
  volumes: { tree: string; path: string; readOnly: boolean }[];
  /** Owner (Tattach n_uname) of files the sandbox creates on the host. */
  uid: number;
}

export interface RootOptions {
  /** The root from the gofer (a sandbox's). Without it the lower layer is read in-process
   *  from hostRoot ('/' by default): only kernels built without a sandbox (unit tests). */
  gofer?: GoferRoot;
  hostRoot?: string;
}

export function newRootFileSystem(kernel: Kernel, opts: RootOptions = {}): MountNamespace {
  const mf = kernel.mf;
  const g = opts.gofer;
  let ns: MountNamespace;
  if (g?.overlay === 'none') {
    const rootFs = new GoferFS(g.session, g.rootTree, g.uid, mf);
    ns = new MountNamespace(rootFs, rootFs.root);
  } else {
    const lower: LowerFS = g ? new GoferLowerFS(g.session, g.rootTree, g.uid, LOWER_TTL_MS) : new HostLowerFS(opts.hostRoot ?? '/');
    // The root's listing first, in one round trip: it answers the mount points' lookups below
    // and the first program's walks through /bin, /lib and /etc (a merged-/usr root's links
    // come with their targets), each a round trip of its own otherwise.
    if (lower instanceof GoferLowerFS) lower.readdir(lower.root);
    const overlay = new OverlayFS(lower, mf);
    ns = new MountNamespace(overlay, overlay.root);
  }
  const root = new Credentials(0, 0);
  const ctx = { t: null, ns, root: ns.rootVd, creds: root };
  const mountAt = (path: string, fs: FileSystem, inode: Inode, flags: MountFlags, rootDentry?: Dentry): void => {
    ns.mount(mountPointAt(ctx, path), fs, inode, flags, rootDentry);
  };
  const proc = newProcFS(kernel);
  mountAt('/proc', proc.fs, proc.root, { nosuid: true, nodev: true, noexec: true });
  const sys = newSysFS(kernel);
  // rw as on a host: sysfs's own inodes refuse renames and new entries (EPERM), as Linux's do.
  mountAt('/sys', sys.fs, sys.root, { nosuid: true, nodev: true, noexec: true });
  const cgroup = new CgroupFS(kernel, topCgroup(kernel));
  mountAt('/sys/fs/cgroup', cgroup, cgroup.root, { nosuid: true, nodev: true, noexec: true });
  const dev = newDevFS(mf);
  mountAt('/dev', dev, dev.root, { nosuid: true });
  const shm = new TmpfsFS(mf, { params: defaultParams() }); // as a plain tmpfs mount: half of memory
  mountAt('/dev/shm', shm, shm.root, { nosuid: true, nodev: true });
  const pts = devptsOf(kernel);
  mountAt('/dev/pts', pts, pts.root, { nosuid: true, noexec: true }, pts.rootDentry);
  // Volumes last: one at /dev/x or /proc/x hides what the sentry mounted there, as on Linux.
  for (const v of g?.volumes ?? []) {
    const vol = new GoferFS(g!.session, v.tree, g!.uid, mf);
    mountAt(v.path, vol, vol.root, { readonly: v.readOnly, nodev: true });
  }
  return ns;
}

/** The directory to mount on at path, made where missing (its parents too). On a gofer tree
 *  that is writable (the root with --overlay=none, a --volume) the sandbox writes nothing to
 *  the host for its own mounts: a missing directory, or one the gofer hides (EACCES: the host's
 *  pseudo file systems, as in the host's own /), becomes a synthetic one (synthetic_dir.ts),
 *  as runsc does where it cannot make one. Linux's mount(2) would fail with ENOENT, leaving
 *  the program without /proc. Elsewhere (the memory overlay, the sentry's own file systems)
 *  it is made as mkdir makes it. */
function mountPointAt(ctx: ResolveContext, path: string): VirtualDentry {
  const cut = path.lastIndexOf('/');
  const name = path.slice(cut + 1);
  const dir = cut <= 0 ? ctx.root : mountPointAt(ctx, path.slice(0, cut));
  const d = dir.inode;
  if (d instanceof GoferInode || d instanceof SyntheticDir) {
    let found: VirtualDentry | null = null;
    try { found = walk(ctx, dir, name, { follow: true, allowMissing: true }).vd; } catch (e) {
      if (!(e instanceof SyscallError) || e.errno !== EACCES) throw e;
    }
    if (found) {
      if (!found.inode.isDir) throw new SyscallError(ENOTDIR);
      return found;
    }
    const made = d instanceof SyntheticDir ? d.child(name) : d.fs.syntheticMountPoint(d, name);
    return new VirtualDentry(dir.mount, dir.dentry.added(name, made));
  }
  // Made first and looked up only if it exists: a lookup that finds nothing is not
  // remembered, so looking first cost a second gofer round trip for each mount point the
  // tree lacks (/proc and /sys, which the gofer does not serve).
  try { return mkdirAt(ctx, dir, name, S_IFDIR | 0o755, 0); } catch (e) {
    if (!(e instanceof SyscallError) || e.errno !== EEXIST) throw e;
    const vd = walk(ctx, dir, name, { follow: true, allowMissing: true }).vd;
    if (!vd?.inode.isDir) throw e;
    return vd;
  }
}

setDefaultMountNamespaceFactory((kernel) => newRootFileSystem(kernel));
