// /proc/<pid>/ns (Linux fs/proc/namespaces.c): a magic link per namespace kind, reading
// "net:[4026531833]" and opening the file of the namespace the task is in now, for a caller that may ptrace-read the
// process (else EACCES, as proc_ns_get_link and proc_ns_readlink check).

import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread_group';
import { SyscallError } from '../../kernel/syscall_error';
import { ENOENT } from '../../abi/linux/errno';
import { NS_ENTRIES, NsFile } from '../../kernel/ns_file';
import { taskNamespace } from '../../kernel/ns/nsproxy';
import { checkProcReadAccess } from '../../kernel/ptrace_access';
import type { Inode } from '../../vfs/inode';
import { KDir, staticChildren } from '../kernfs/dir';
import type { KAttr } from '../kernfs/inode';
import type { KernFS } from '../kernfs/kernfs';
import { KSymlink } from '../kernfs/symlink';

export function nsDir(fs: KernFS, key: string, task: () => Task | undefined, tg: ThreadGroup, owner: KAttr): KDir {
  const target = (t: Task | null): Task => {
    const it = task();
    if (it === undefined) throw new SyscallError(ENOENT);
    checkProcReadAccess(t, tg);
    return it;
  };
  const link = (name: string): KSymlink => new KSymlink(fs, `${key}/${name}`,
    (t) => new NsFile(taskNamespace(target(t), name)).describe(),
    (t) => ({ file: new NsFile(taskNamespace(target(t), name)) }), owner);
  const entries = (): Record<string, Inode> => Object.fromEntries(NS_ENTRIES.map(([name]) => [name, link(name)]));
  return new KDir(fs, key, staticChildren(entries), 0o511, owner);
}
