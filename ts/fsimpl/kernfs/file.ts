// KFile: a kernfs file whose contents are generated when it is opened (Linux seq_file does it
// per read; one snapshot per open keeps every read of one open consistent). Read-only.

import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { EINVAL } from '../../abi/linux/errno';
import { SEEK_CUR, SEEK_SET } from '../../abi/linux/fcntl';
import { S_IFREG } from '../../abi/linux/stat';
import { seekPosition } from '../../vfs/file_description';
import type { FileDescription } from '../../vfs/file_description';
import { VfsFile } from '../../vfs/vfs_file';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import { KInode, type KAttr } from './inode';
import type { KernFS } from './kernfs';
import { stringBytes } from '../../abi/byte_string';

export type Generator = (t: Task | null) => string | Uint8Array;

/** How an open file seeks: 'seq' (seq_lseek), 'size0' (generic_file_llseek over an inode
 *  size of 0: proc's cmdline, environ, auxv), 'size' (over the contents). */
export type SeekKind = 'seq' | 'size0' | 'size';

export class KFile extends KInode {
  constructor(fs: KernFS, key: string, private readonly generate: Generator, mode = 0o444, attr: KAttr = {},
    private readonly seekKind?: SeekKind) {
    super(fs, key, S_IFREG | mode, attr);
  }

  open(t: Task | null, vd: VirtualDentry, flags: number): FileDescription {
    const c = this.generate(t);
    return new SnapshotFile(flags, vd, typeof c === 'string' ? stringBytes(c) : c,
      this.seekKind ?? this.fs.seekKind);
  }
}

/** An open file over a fixed buffer. */
export class SnapshotFile extends VfsFile {
  override readonly seekable = true;
  protected pos = 0;

  constructor(flags: number, vd: VirtualDentry, protected data: Uint8Array,
    private readonly seekKind: SeekKind = 'size') {
    super(flags, vd);
  }

  override read(_t: Task, dst: Uint8Array, offset: number): number {
    const at = offset >= 0 ? offset : this.pos;
    const n = Math.max(0, Math.min(dst.length, this.data.length - at));
    dst.set(this.data.subarray(at, at + n));
    if (offset < 0) this.pos += n;
    return n;
  }

  override lseek(offset: number, whence: number): number {
    if (this.seekKind === 'seq' && whence !== SEEK_SET && whence !== SEEK_CUR) throw new SyscallError(EINVAL);
    this.pos = seekPosition(this.pos, this.seekKind === 'size0' ? 0 : this.data.length, offset, whence);
    return this.pos;
  }

  override size(): number { return this.data.length; }
}
