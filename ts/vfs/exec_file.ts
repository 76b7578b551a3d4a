// openExecutable: the program file of execve (and of the sandbox's first process) opened
// through the VFS, as the loader wants it (a LoadableFile). Linux open_exec: the path is
// resolved following symlinks, must be a regular file with execute permission on a mount
// that allows exec (EACCES otherwise); read permission is not needed.

import type { Kernel } from '../kernel/kernel';
import type { FSContext, Task } from '../kernel/task';
import type { Credentials } from '../kernel/credentials';
import { SyscallError } from '../kernel/syscall_error';
import { EACCES, ELOOP, ENOENT, ENOEXEC } from '../abi/linux/errno';
import { O_LARGEFILE, O_RDONLY } from '../abi/linux/fcntl';
import type { LoadableFile } from '../loader/loadable_file';
import '../fsimpl/root';
import type { FileDescription } from './file_description';
import { MAY_EXEC, checkPermission } from './permission';
import { walk, type ResolveContext } from './resolve';
import { locate } from './lookup';
import { cwdOf, mountNamespaceOf, resolveContext } from './task_fs';
import { VirtualDentry } from './virtual_dentry';
import { landlockCheckPath, openAccess } from '../kernel/landlock/domain';
import { execFileOf } from './write_access';

// The loader keeps a LoadableFile only while it maps the program; the mappings keep what
// they need (their MappingBacking). The open file goes when the LoadableFile does.
const openFiles = new FinalizationRegistry<FileDescription>((f) => f.decRef());

function open(ctx: ResolveContext, start: VirtualDentry, path: string, follow = true): LoadableFile {
  const r = walk(ctx, start, path, { follow });
  const vd = r.vd;
  if (!vd) throw new SyscallError(r.file ? EACCES : ENOENT);
  return openResolved(ctx, vd, follow);
}

function openResolved(ctx: ResolveContext, vd: VirtualDentry, follow: boolean): LoadableFile {
  const inode = vd.inode;
  // execveat AT_SYMLINK_NOFOLLOW: opening the link itself is O_NOFOLLOW's ELOOP.
  if (!follow && inode.isSymlink) throw new SyscallError(ELOOP);
  if (!inode.isRegular || vd.mount.flags.noexec) throw new SyscallError(EACCES);
  checkPermission(ctx.creds, inode, MAY_EXEC);
  // open_exec's file opens for reading with __FMODE_EXEC: Landlock wants both rights.
  landlockCheckPath(ctx.creds, vd, openAccess(false, true, false, true));
  // deny_write_access: not a file open for writing (ETXTBSY).
  const exeFile = execFileOf(inode);
  const file = inode.open(ctx.t, vd, O_RDONLY | O_LARGEFILE);
  const mappable = file.mappable();
  if (!mappable) {
    file.decRef();
    throw new SyscallError(ENOEXEC);
  }
  const backing = { ...mappable, inode };
  const st = inode.stat();
  const size = st.size;
  const t = ctx.t;
  const loadable: LoadableFile = {
    // Where the file is, symlinks resolved, from the root: what /proc/pid/exe shows however
    // it was named (glibc's static _dl_get_origin insists on an absolute link).
    path: vd.path(ctx.root),
    size,
    setid: { mode: st.mode, uid: st.uid, gid: st.gid, maySuid: vd.mount.flags.nosuid !== true },
    read(offset: number, length: number): Uint8Array {
      const buf = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
      let done = 0;
      while (done < buf.length) {
        const n = file.readNow(t as Task, buf.subarray(done), offset + done);
        if (n === 0) break;
        done += n;
      }
      return buf.subarray(0, done);
    },
    backing,
    exeFile,
  };
  openFiles.register(loadable, file);
  return loadable;
}

/** The executable at path, resolved from t's working directory with t's credentials. */
export function openExecutable(t: Task, path: string, follow = true): LoadableFile {
  return open(resolveContext(t), cwdOf(t), path, follow);
}

/** The executable execveat names by its file descriptor (AT_EMPTY_PATH) or relative to it;
 *  a file with no place in the tree (a pipe, a socket) cannot be run (EACCES). */
export function openExecutableAt(t: Task, dirfd: number, path: string, follow: boolean): LoadableFile {
  const l = locate(t, dirfd, path, follow, path === '');
  if (!l.vd) throw new SyscallError(EACCES);
  return openResolved(resolveContext(t), l.vd, follow);
}

/** The same before any task exists (the sandbox's first program). */
export function openExecutableIn(kernel: Kernel, fs: FSContext, creds: Credentials, path: string): LoadableFile {
  const ns = mountNamespaceOf(kernel);
  let start = ns.rootVd;
  if (!path.startsWith('/')) {
    const r = walk({ t: null, ns, root: ns.rootVd, creds }, ns.rootVd, fs.cwd, { follow: true });
    if (r.vd) start = r.vd;
  }
  return open({ t: null, ns, root: ns.rootVd, creds }, start, path);
}
