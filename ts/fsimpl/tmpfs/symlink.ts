// TmpfsSymlink: a symlink's target text.

import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { ELOOP } from '../../abi/linux/errno';
import { S_IFLNK } from '../../abi/linux/stat';
import type { FileDescription } from '../../vfs/file_description';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import { TmpfsInode } from './inode';
import type { TmpfsFS } from './tmpfs';
import { stringByteLength } from '../../abi/byte_string';

/** SHORT_SYMLINK_LEN: a target this long or longer takes a page of its own. */
const SHORT_SYMLINK_LEN = 128;

export class TmpfsSymlink extends TmpfsInode {
  private readonly long: boolean;

  constructor(fs: TmpfsFS, uid: number, gid: number, readonly target: string) {
    super(fs, S_IFLNK | 0o777, uid, gid);
    this.long = stringByteLength(target) >= SHORT_SYMLINK_LEN;
    if (this.long) {
      try {
        fs.chargeBlocks(1);
      } catch (e) {
        fs.freeInode();
        throw e;
      }
    }
  }

  get size(): number { return stringByteLength(this.target); }
  override get blocks(): number { return this.long ? 8 : 0; }

  override released(): void {
    super.released();
    if (this.long) this.fs.unchargeBlocks(1);
  }

  /** readlink(2) and following the link in a walk alike (touch_atime in both). */
  override readlink(_t: Task | null): string {
    this.accessed();
    return this.target;
  }

  /** Only O_PATH opens reach a symlink, and the VFS serves those itself. */
  open(_t: Task | null, _vd: VirtualDentry, _flags: number): FileDescription {
    throw new SyscallError(ELOOP);
  }
}
