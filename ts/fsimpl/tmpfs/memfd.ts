// memfd_create's files (Linux mm/memfd.c over shmem): tmpfs regular files of an internal
// mount that no path reaches, named "memfd:NAME" and never linked, so /proc/self/fd shows
// "/memfd:NAME (deleted)". One such tmpfs per kernel, made on first use.

import type { Task } from '../../kernel/task';
import { O_LARGEFILE, O_RDWR } from '../../abi/linux/fcntl';
import { F_SEAL_EXEC, F_SEAL_SEAL } from '../../abi/linux/memfd';
import { S_IFREG } from '../../abi/linux/stat';
import type { NativeMemoryFile } from '../../native/addon';
import { Dentry } from '../../vfs/dentry';
import type { FileDescription } from '../../vfs/file_description';
import { Mount } from '../../vfs/mount';
import { VirtualDentry } from '../../vfs/virtual_dentry';
import { TmpfsRegular } from './regular';
import { HugetlbRegular } from './hugetlb_memfd';
import { TmpfsFS } from './tmpfs';

const mounts = new WeakMap<NativeMemoryFile, Mount>();

export function memfdMount(mf: NativeMemoryFile): Mount {
  let m = mounts.get(mf);
  if (m === undefined) {
    const fs = new TmpfsFS(mf);
    m = new Mount(fs, fs.root, null, null, {});
    mounts.set(mf, m);
  }
  return m;
}

export interface MemfdOptions {
  allowSealing: boolean;
  /** MFD_HUGETLB: the huge page size of the file (hugetlb_memfd.ts); absent for tmpfs. */
  hugePageSize?: number;
  /** MFD_NOEXEC_SEAL: mode 0666 and F_SEAL_EXEC (and sealing allowed). */
  noExec: boolean;
}

/** A new memfd, open read-write; the caller installs it and drops this reference. */
export function memfdCreate(t: Task, name: string, o: MemfdOptions): FileDescription {
  const m = memfdMount(t.kernel.mf);
  // The mode ignores the umask (memfd files are 0777, 0666 with MFD_NOEXEC_SEAL).
  const mode = S_IFREG | (o.noExec ? 0o666 : 0o777);
  const inode = o.hugePageSize !== undefined
    ? new HugetlbRegular(m.fs as TmpfsFS, mode, t.creds.fsuid, t.creds.fsgid, o.hugePageSize)
    : new TmpfsRegular(m.fs as TmpfsFS, mode, t.creds.fsuid, t.creds.fsgid);
  inode.nlink = 0;
  // MFD_NOEXEC_SEAL implies sealing is allowed.
  inode.seals = o.noExec ? F_SEAL_EXEC : o.allowSealing ? 0 : F_SEAL_SEAL;
  const d = new Dentry(`memfd:${name}`, m.root, inode);
  d.deleted = true;
  return inode.open(t, new VirtualDentry(m, d), O_RDWR | O_LARGEFILE);
}
