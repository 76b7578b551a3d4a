// KDir: a kernfs directory whose children come from a DirSource: a fixed map, or a function
// of the moment (the pids in /proc, the fds in /proc/<pid>/fd).

import type { Task } from '../../kernel/task';
import { S_IFDIR } from '../../abi/linux/stat';
import { dtypeOfMode } from '../../abi/linux/fs';
import type { DirEntry, Inode } from '../../vfs/inode';
import type { FileDescription } from '../../vfs/file_description';
import { DirectoryFile } from '../../vfs/directory_file';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import { KInode, type KAttr } from './inode';
import type { KernFS } from './kernfs';

export interface DirSource {
  names(): string[];
  get(name: string): Inode | null;
  /** The directory's link count: 2 and one per subdirectory's "..", as kernfs and proc's
   *  pid directories count (undefined: 2). */
  nlink?(): number;
}

/** 2 and one link per directory among `inodes`. */
export function dirLinks(inodes: Iterable<Inode>): number {
  let n = 2;
  for (const i of inodes) if (i.isDir) n++;
  return n;
}

/** A DirSource over children made once, on first use. */
export function staticChildren(make: () => Record<string, Inode>): DirSource {
  let children: Map<string, Inode> | null = null;
  const all = (): Map<string, Inode> => (children ??= new Map(Object.entries(make())));
  return { names: () => [...all().keys()], get: (name) => all().get(name) ?? null, nlink: () => dirLinks(all().values()) };
}

/** A DirSource whose children are made one at a time, when looked up (a listing makes all). */
export function lazyChildren(makers: Record<string, () => Inode>, subdirs = 0): DirSource {
  const made = new Map<string, Inode>();
  return {
    nlink: () => 2 + subdirs,
    names: () => Object.keys(makers),
    get: (name) => {
      let inode = made.get(name);
      if (inode === undefined) {
        if (!Object.hasOwn(makers, name)) return null;
        made.set(name, inode = makers[name]());
      }
      return inode;
    },
  };
}

export class KDir extends KInode {
  /** kernfs_dir_fops and proc's directories seek with generic_file_llseek, over size 0. */
  override get dirSeekEndSize(): number | undefined { return 0; }

  constructor(fs: KernFS, key: string, private readonly source: DirSource, mode = 0o555, attr: KAttr = {}) {
    super(fs, key, S_IFDIR | mode, attr);
  }

  protected override get nlink(): number { return this.source.nlink?.() ?? 2; }

  open(_t: Task | null, vd: VirtualDentry, flags: number): FileDescription {
    return new DirectoryFile(flags, vd);
  }

  override lookup(name: string): Inode | null { return this.source.get(name); }

  override iterate(): DirEntry[] {
    const out: DirEntry[] = [];
    for (const name of this.source.names()) {
      const inode = this.source.get(name);
      if (inode) out.push({ name, ino: inode.stat().ino, type: dtypeOfMode(inode.mode) });
    }
    return out;
  }
}
