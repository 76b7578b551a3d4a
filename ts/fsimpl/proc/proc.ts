// proc: the sandbox's /proc (Linux fs/proc, gVisor fsimpl/proc), built from the sentry's own
// state: one directory per thread group, /proc/self and thread-self, and the system-wide
// files (system_files.ts). It reads kernel, task, mm and VFS state and changes none of it.
// Tasks come and go, so no dentry is cached (KernFS cacheDentries false).

import type { Kernel } from '../../kernel/kernel';
import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { ENOENT } from '../../abi/linux/errno';
import { PROC_SUPER_MAGIC } from '../../abi/linux/fs';
import type { Inode } from '../../vfs/inode';
import { KDir, dirLinks, type DirSource } from '../kernfs/dir';
import { KernFS } from '../kernfs/kernfs';
import { KSymlink } from '../kernfs/symlink';
import { systemEntries } from './system_files';
import { threadGroupDir } from './task_dir';
import {
  INIT_PID_NS, taskInNs, tgidIn, threadGroupInNs, threadGroupsOf, tidIn, type PidNamespace,
} from '../../kernel/ns/pid_ns';

function caller(t: Task | null): Task {
  if (!t) throw new SyscallError(ENOENT);
  return t;
}

/** A proc file system showing the processes of pid namespace `pidNs` (its mounter's), by
 *  their numbers there. */
export function newProcFS(kernel: Kernel, pidNs: PidNamespace = INIT_PID_NS): { fs: KernFS; root: Inode } {
  const fs = new KernFS('proc', PROC_SUPER_MAGIC, false);
  fs.seekKind = 'seq';
  let fixed: Record<string, Inode> | null = null;
  /** The caller's process as this mount numbers it (ENOENT from outside its namespace). */
  const own = (t: Task | null): number => {
    const id = tgidIn(pidNs, caller(t).tg);
    if (id === 0) throw new SyscallError(ENOENT);
    return id;
  };
  const system = (): Record<string, Inode> => (fixed ??= {
    self: new KSymlink(fs, 'self', (t) => `${own(t)}`),
    'thread-self': new KSymlink(fs, 'thread-self', (t) => `${own(t)}/task/${tidIn(pidNs, caller(t))}`),
    ...systemEntries(fs, kernel),
  });
  const source: DirSource = {
    // proc_root_getattr: its own directories' links and one per process.
    nlink: () => dirLinks(Object.values(system())) + threadGroupsOf(kernel, pidNs).size,
    names: () => [...Object.keys(system()), ...[...threadGroupsOf(kernel, pidNs).keys()].sort((a, b) => a - b).map(String)],
    get: (name) => {
      const s = system()[name];
      if (s) return s;
      if (!/^[1-9]\d*$/.test(name)) return null;
      const tg = threadGroupInNs(kernel, pidNs, Number(name));
      if (tg) return threadGroupDir(fs, kernel, pidNs, tg);
      const thread = taskInNs(kernel, pidNs, Number(name));
      return thread && !thread.exited ? threadGroupDir(fs, kernel, pidNs, thread.tg, thread) : null;
    },
  };
  return { fs, root: new KDir(fs, '', source) };
}
