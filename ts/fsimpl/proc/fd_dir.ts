// /proc/<pid>/fd and fdinfo: one magic link per open fd (opening it opens that same file:
// its place in the tree if it has one, else the very description, as for a pipe), and the
// position and flags of each.

import type { Kernel } from '../../kernel/kernel';
import type { Task } from '../../kernel/task';
import { readerRoot } from './links';
import { SEEK_CUR } from '../../abi/linux/fcntl';
import type { FileDescription } from '../../vfs/file_description';
import type { MagicTarget } from '../../vfs/inode';
import { VfsFile } from '../../vfs/vfs_file';
import { KDir, type DirSource } from '../kernfs/dir';
import { KFile } from '../kernfs/file';
import type { KAttr } from '../kernfs/inode';
import type { KernFS } from '../kernfs/kernfs';
import { KSymlink } from '../kernfs/symlink';

/** fd, fdinfo and map_files: owner-only directories (root's once the process is not
 *  dumpable) that the process's own threads may always search (proc_fd_permission). */
export class OwnProcessDir extends KDir {
  constructor(fs: KernFS, key: string, source: DirSource, owner: KAttr, private readonly kernel: Kernel,
    private readonly task: () => Task | undefined) {
    super(fs, key, source, 0o500, owner);
  }

  override permitsBeyondMode(): boolean {
    const cur = this.kernel.current;
    return cur !== null && cur.tg === this.task()?.tg;
  }
}

function fdSource(task: () => Task | undefined, make: (fd: number, f: FileDescription) => KSymlink | KFile): DirSource {
  return {
    names: () => (task()?.fdTable.fds() ?? []).map(String),
    get: (name) => {
      if (!/^(0|[1-9]\d*)$/.test(name)) return null;
      const f = task()?.fdTable.get(Number(name));
      return f ? make(Number(name), f) : null;
    },
  };
}

/** What /proc/<pid>/fd/N reads as: the path as the reader's root names it (d_path), or
 *  "pipe:[...]"-like names for the rest. */
function fdLinkText(kernel: Kernel, f: FileDescription, reader: Task | null): string {
  return f instanceof VfsFile ? f.vd.path(readerRoot(kernel, reader)) : f.describe();
}

/** tid_fd_mode: the link's permission bits say how the file is open (lsof reads them). */
function fdLinkPerm(f: FileDescription): number {
  return (f.readable ? 0o500 : 0) | (f.writable ? 0o300 : 0);
}

export function fdDir(fs: KernFS, key: string, kernel: Kernel, task: () => Task | undefined, owner: KAttr): KDir {
  const link = (fd: number, f: FileDescription): KSymlink => new KSymlink(fs, `${key}/${fd}`, (r) => fdLinkText(kernel, f, r),
    (): MagicTarget => (f instanceof VfsFile ? { vd: f.vd } : { file: f }), owner, fdLinkPerm(f));
  return new OwnProcessDir(fs, key, fdSource(task, link), owner, kernel, task);
}

export function fdinfoDir(fs: KernFS, key: string, kernel: Kernel, task: () => Task | undefined, owner: KAttr): KDir {
  const info = (fd: number, f: FileDescription): KFile => new KFile(fs, `${key}/${fd}`, () => {
    // Only our own files are asked for their position: asking a host file would make it
    // stop sharing the host's offset.
    let pos = 0;
    if (f instanceof VfsFile && f.seekable) {
      try { pos = f.lseek(0, SEEK_CUR); } catch { pos = 0; }
    }
    const cloexec = task()?.fdTable.getFlags(fd)?.cloexec ? 0o2000000 : 0;
    const mnt = f instanceof VfsFile ? f.vd.mount.id : 0;
    const ino = f instanceof VfsFile ? f.stat().ino : 0;
    return `pos:\t${pos}\nflags:\t0${(f.flags | cloexec).toString(8)}\nmnt_id:\t${mnt}\nino:\t${ino}\n`;
  }, 0o444, owner);
  return new OwnProcessDir(fs, key, fdSource(task, info), owner, kernel, task);
}
