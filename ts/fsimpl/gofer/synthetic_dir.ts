// SyntheticDir: a mount point the sandbox needs where a writable gofer tree has none (gVisor's
// synthetic mount points): an empty directory that lives only in the sentry. A --rootfs tree
// served with --overlay=none may lack /proc, /sys or /dev, or have them hidden (the host's /
// has pseudo file systems there, which the gofer never serves); the sentry's own mounts go on
// one of these instead of a directory made on the host: the sandbox's furniture never lands
// in the user's tree. Nothing can be made inside one but another mount point (EPERM, as
// gVisor answers).

import type { Task } from '../../kernel/task';
import { S_IFDIR, type Stat } from '../../abi/linux/stat';
import { DT_DIR } from '../../abi/linux/fs';
import { DirectoryFile } from '../../vfs/directory_file';
import type { FileDescription } from '../../vfs/file_description';
import type { FileSystem } from '../../vfs/file_system';
import { Inode, type DirEntry } from '../../vfs/inode';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import { now } from '../../vfs/time';

/** Inode numbers of synthetic directories: above any qid path a host inode gets (PROTOCOL.md:
 *  at most (n << 56) | ino), counting down. */
let nextIno = Number.MAX_SAFE_INTEGER;

export class SyntheticDir extends Inode {
  private readonly ino = nextIno--;
  private readonly time = now();
  /** Mount points made below this one (a --volume deeper in a path the tree lacks). */
  readonly children = new Map<string, SyntheticDir>();

  constructor(readonly fs: FileSystem) { super(); }

  get mode(): number { return S_IFDIR | 0o755; }
  get uid(): number { return 0; }
  get gid(): number { return 0; }

  stat(): Stat {
    const t = this.time;
    return {
      dev: this.fs.dev, ino: this.ino, mode: this.mode, nlink: 2 + this.children.size, uid: 0, gid: 0,
      rdev: 0, size: 0, blksize: 4096, blocks: 0, atime: t, mtime: t, ctime: t,
    };
  }

  open(_t: Task | null, vd: VirtualDentry, flags: number): FileDescription { return new DirectoryFile(flags, vd); }

  override lookup(name: string): Inode | null { return this.children.get(name) ?? null; }

  override iterate(): DirEntry[] {
    return [...this.children].map(([name, d]) => ({ name, ino: d.ino, type: DT_DIR }));
  }

  /** The synthetic directory called name below this one, made if new. */
  child(name: string): SyntheticDir {
    let d = this.children.get(name);
    if (!d) this.children.set(name, d = new SyntheticDir(this.fs));
    return d;
  }
}
