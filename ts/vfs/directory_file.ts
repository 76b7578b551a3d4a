// DirectoryFile: an open directory (Linux's dcache_readdir for in-memory directories). The
// listing is taken once, when getdents first reads it or after a rewind, so that entries
// added or removed meanwhile neither repeat nor vanish mid-listing; the position is the index
// in that listing, and d_off of an entry is the position just after it.

import { SyscallError } from '../kernel/syscall_error';
import { EINVAL, EISDIR, ENXIO } from '../abi/linux/errno';
import { O_NOATIME, SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_SET } from '../abi/linux/fcntl';
import { DT_DIR } from '../abi/linux/fs';
import type { Task } from '../kernel/task';
import type { DirEntry } from './inode';
import { VfsFile } from './vfs_file';

export class DirectoryFile extends VfsFile {
  override readonly seekable = true;
  private entries: DirEntry[] | null = null;
  private pos = 0;

  /** Entries from the current position on (take what fits, then advance()). */
  pending(): readonly DirEntry[] {
    // iterate_dir: every getdents is an access.
    if ((this.flags & O_NOATIME) === 0) this.vd.inode.accessed();
    if (!this.entries) this.entries = this.listing();
    return this.pos < this.entries.length ? this.entries.slice(this.pos) : [];
  }

  /** Position after the first n pending entries have been delivered. */
  advance(n: number): void { this.pos += n; }

  get position(): number { return this.pos; }

  override read(_t: Task, _dst: Uint8Array, _offset: number): number {
    throw new SyscallError(EISDIR);
  }

  override lseek(offset: number, whence: number): number {
    let next: number;
    if (whence === SEEK_SET) next = offset;
    else if (whence === SEEK_CUR) next = this.pos + offset;
    else {
      // generic_file_llseek's directories (proc's, sysfs's): SEEK_END, SEEK_DATA and SEEK_HOLE
      // go by the size; the others (dcache_dir_lseek) know only SEEK_SET and SEEK_CUR.
      const size = this.vd.inode.dirSeekEndSize;
      if (size === undefined) throw new SyscallError(EINVAL);
      if (whence === SEEK_END) next = size + offset;
      else if (offset < 0 || offset >= size) throw new SyscallError(ENXIO);
      else next = whence === SEEK_DATA ? offset : size;
    }
    if (next < 0) throw new SyscallError(EINVAL);
    if (next === 0) this.entries = null; // rewinddir sees a fresh listing
    this.pos = next;
    return next;
  }

  private listing(): DirEntry[] {
    const inode = this.vd.inode;
    const ino = inode.stat().ino;
    const parent = this.vd.dentry.parent;
    const parentIno = parent ? parent.inode.stat().ino : inode.parentIno();
    return [
      { name: '.', ino, type: DT_DIR },
      { name: '..', ino: parentIno, type: DT_DIR },
      ...inode.iterate(),
    ];
  }
}
