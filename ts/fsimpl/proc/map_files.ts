// /proc/<pid>/map_files (Linux fs/proc/base.c proc_map_files_*): one link per VMA that maps a
// file, named "start-end" in bare hex, reading as the file's path. Reading a link needs ptrace
// read access to the process; following one (opening the file through it, as CRIU does) needs
// CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE (checkpoint_restore_ns_capable), EPERM otherwise.
// The directory is the owner's alone (0500), as Linux makes it, and the process's own.

import type { Kernel } from '../../kernel/kernel';
import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { CAP_CHECKPOINT_RESTORE, CAP_SYS_ADMIN } from '../../kernel/capabilities';
import { EACCES, ENOENT, EPERM } from '../../abi/linux/errno';
import type { Vma } from '../../mm/vma';
import type { DirSource } from '../kernfs/dir';
import { OwnProcessDir } from './fd_dir';
import type { KAttr } from '../kernfs/inode';
import type { KernFS } from '../kernfs/kernfs';
import { KSymlink } from '../kernfs/symlink';
import { fileAt } from './links';
import { mayPtraceAttach } from './mem';

/** The VMAs map_files lists: those with a file behind them (not the vDSO's or [vvar]). */
function fileVmas(t: Task): Vma[] {
  return t.mm.vmas.all().filter((v) => v.backing?.inode !== undefined);
}

const vmaName = (v: Vma): string => `${v.start.toString(16)}-${v.end.toString(16)}`;

export function mapFilesDir(fs: KernFS, kernel: Kernel, key: string, task: () => Task | undefined, owner: KAttr): OwnProcessDir {
  const link = (v: Vma): KSymlink => {
    const live = (reader: Task | null): Task => {
      const t = task();
      if (!t) throw new SyscallError(ENOENT);
      if (reader !== null && !mayPtraceAttach(reader, t)) throw new SyscallError(EACCES);
      return t;
    };
    const path = (reader: Task | null): string => {
      const t = live(reader);
      // find_exact_vma at each use: the mapping may have gone since the lookup.
      const now = fileVmas(t).find((x) => x.start === v.start && x.end === v.end);
      if (!now?.backing) throw new SyscallError(ENOENT);
      return now.backing.name;
    };
    const follow = (reader: Task | null): ReturnType<typeof fileAt> => {
      if (reader !== null && !reader.creds.hasCapability(CAP_SYS_ADMIN) &&
        !reader.creds.hasCapability(CAP_CHECKPOINT_RESTORE)) throw new SyscallError(EPERM);
      return fileAt(kernel, reader, path(reader));
    };
    // The link's mode says how the file is open: readable always, writable for a shared
    // mapping that may write it.
    return new KSymlink(fs, `${key}/${vmaName(v)}`, path, follow, owner, v.mayWriteShared ? 0o600 : 0o400);
  };
  const source: DirSource = {
    names: () => { const t = task(); return t ? fileVmas(t).map(vmaName) : []; },
    get: (name) => {
      const t = task();
      // dname_to_vma_addr: two bare hex numbers, no leading zeros.
      if (!t || !/^(0|[1-9a-f][0-9a-f]*)-(0|[1-9a-f][0-9a-f]*)$/.test(name)) return null;
      const v = fileVmas(t).find((x) => vmaName(x) === name);
      return v ? link(v) : null;
    },
  };
  return new OwnProcessDir(fs, key, source, owner, kernel, task);
}
