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
import { KDir, type DirSource } from '../kernfs/dir';
import { KernFS } from '../kernfs/kernfs';
import { KSymlink } from '../kernfs/symlink';
import { systemEntries } from './system_files';
import { threadGroupDir } from './task_dir';

function caller(t: Task | null): Task {
  if (!t) throw new SyscallError(ENOENT);
  return t;
}

export function newProcFS(kernel: Kernel): { fs: KernFS; root: Inode } {
  const fs = new KernFS('proc', PROC_SUPER_MAGIC, false);
  fs.seekKind = 'seq';
  let fixed: Record<string, Inode> | null = null;
  const system = (): Record<string, Inode> => (fixed ??= {
    self: new KSymlink(fs, 'self', (t) => `${caller(t).tg.tgid}`),
    'thread-self': new KSymlink(fs, 'thread-self', (t) => `${caller(t).tg.tgid}/task/${caller(t).tid}`),
    ...systemEntries(fs, kernel),
  });
  const source: DirSource = {
    names: () => [...Object.keys(system()), ...[...kernel.threadGroups.keys()].sort((a, b) => a - b).map(String)],
    get: (name) => {
      const s = system()[name];
      if (s) return s;
      if (!/^[1-9]\d*$/.test(name)) return null;
      const tg = kernel.threadGroups.get(Number(name));
      if (tg) return threadGroupDir(fs, kernel, tg);
      const thread = kernel.tasks.get(Number(name));
      return thread && !thread.exited ? threadGroupDir(fs, kernel, thread.tg, thread) : null;
    },
  };
  return { fs, root: new KDir(fs, '', source) };
}
