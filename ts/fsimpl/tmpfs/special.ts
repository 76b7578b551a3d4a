// TmpfsSpecial: a device node, FIFO or socket made by mknod. A character device opens its
// driver (vfs/devices), a FIFO its named pipe (kernel/fifo); a socket cannot be opened
// (ENXIO, as Linux says).

import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { ENXIO } from '../../abi/linux/errno';
import { S_IFCHR, S_IFIFO, S_IFMT } from '../../abi/linux/stat';
import { openFifo } from '../../kernel/fifo';
import type { FileDescription } from '../../vfs/file_description';
import { openCharDevice } from '../../vfs/devices';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import { TmpfsInode } from './inode';
import type { TmpfsFS } from './tmpfs';

export class TmpfsSpecial extends TmpfsInode {
  constructor(fs: TmpfsFS, mode: number, uid: number, gid: number, private readonly dev: number) {
    super(fs, mode, uid, gid);
  }

  get size(): number { return 0; }
  override get rdev(): number { return this.dev; }

  open(t: Task | null, vd: VirtualDentry, flags: number): FileDescription {
    const type = this.mode & S_IFMT;
    if (type === S_IFCHR) return openCharDevice(t, this.dev, vd, flags);
    if (type === S_IFIFO) return openFifo(t, this, vd, flags);
    throw new SyscallError(ENXIO);
  }
}
