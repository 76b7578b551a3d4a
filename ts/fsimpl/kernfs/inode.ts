// KInode: attributes every kernfs file shares, fixed at creation (owner, mode, a stable
// inode number, times), with chmod/chown/utimes refused (EPERM) as on Linux's proc.

import type { Stat, Timespec } from '../../abi/linux/stat';
import { Inode } from '../../vfs/inode';
import { now } from '../../vfs/time';
import type { KernFS } from './kernfs';

export interface KAttr {
  uid?: number;
  gid?: number;
}

const bootTime = now();

export abstract class KInode extends Inode {
  readonly ino: number;
  protected readonly owner: { uid: number; gid: number };

  constructor(readonly fs: KernFS, key: string, protected readonly _mode: number, attr: KAttr = {}) {
    super();
    this.ino = fs.inoFor(key);
    this.owner = { uid: attr.uid ?? 0, gid: attr.gid ?? 0 };
  }

  get mode(): number { return this._mode; }
  get uid(): number { return this.owner.uid; }
  get gid(): number { return this.owner.gid; }

  protected get size(): number { return 0; }
  protected get rdev(): number { return 0; }
  protected get nlink(): number { return 1; }
  protected get time(): Timespec { return bootTime; }

  stat(): Stat {
    const t = this.time;
    return {
      dev: this.fs.dev, ino: this.ino, mode: this._mode, nlink: this.nlink, uid: this.owner.uid,
      gid: this.owner.gid, rdev: this.rdev, size: this.size, blksize: 4096, blocks: 0, atime: t, mtime: t, ctime: t,
    };
  }
}
