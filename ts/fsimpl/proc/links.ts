// The magic links of /proc/<pid>: exe (the program file) and cwd (the working directory).
// Following one lands on the file itself, not on a re-resolution of its path text.

import type { Kernel } from '../../kernel/kernel';
import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread_group';
import { SyscallError } from '../../kernel/syscall_error';
import { checkProcReadAccess } from '../../kernel/ptrace_access';
import { Credentials } from '../../kernel/credentials';
import { ENOENT } from '../../abi/linux/errno';
import type { MagicTarget } from '../../vfs/inode';
import { walk } from '../../vfs/resolve';
import { cwdOf, mountNamespaceOf, taskRoot } from '../../vfs/task_fs';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import type { KAttr } from '../kernfs/inode';
import type { KernFS } from '../kernfs/kernfs';
import { KSymlink } from '../kernfs/symlink';

const root = new Credentials(0, 0);

// Reading or following exe, cwd and root needs ptrace read access first (proc_fd_access_allowed).

export function exeLink(fs: KernFS, key: string, kernel: Kernel, tg: ThreadGroup, owner: KAttr): KSymlink {
  // A zombie has no mm, so no exe_file: ENOENT (get_task_exe_file).
  const gone = (): boolean => !tg.exePath || tg.zombie || tg.reaped;
  const target = (t: Task | null): string => {
    checkProcReadAccess(t, tg);
    if (gone()) throw new SyscallError(ENOENT);
    return tg.exePath;
  };
  return new KSymlink(fs, key, target, (t) => {
    checkProcReadAccess(t, tg);
    return gone() ? null : fileAt(kernel, t, tg.exePath);
  }, owner);
}

/** The root a reader's paths are named from (d_path: its chroot, if any); a path outside it
 *  is named from the namespace's root. */
export function readerRoot(kernel: Kernel, reader: Task | null): VirtualDentry {
  return reader !== null ? taskRoot(reader) : mountNamespaceOf(kernel).rootVd;
}

/** The file a link names by its path from the sandbox's root (exe, map_files), or null. */
export function fileAt(kernel: Kernel, t: Task | null, path: string): MagicTarget | null {
  const ns = mountNamespaceOf(kernel);
  try {
    const r = walk({ t, ns, root: ns.rootVd, creds: root }, ns.rootVd, path, { follow: true });
    return r.vd ? { vd: r.vd } : null;
  } catch {
    return null;
  }
}

export function cwdLink(fs: KernFS, key: string, kernel: Kernel, tg: ThreadGroup, task: () => Task | undefined,
  owner: KAttr): KSymlink {
  const live = (reader: Task | null): Task => {
    checkProcReadAccess(reader, tg);
    return task() ?? (() => { throw new SyscallError(ENOENT); })();
  };
  return new KSymlink(fs, key, (r) => cwdOf(live(r)).path(readerRoot(kernel, r)),
    (r) => ({ vd: cwdOf(live(r)) }), owner);
}
