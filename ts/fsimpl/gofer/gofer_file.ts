// GoferFile: an open regular file of a writable gofer file system. Reads and writes go to the
// file's FileData (the donated host fd, or Tread/Twrite), at our own position; O_APPEND is
// ours too (the host fd is never opened O_APPEND, so pwrite lands where we say).

import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { ENOTTY } from '../../abi/linux/errno';
import { O_APPEND } from '../../abi/linux/fcntl';
import { FIONREAD } from '../../abi/linux/ioctl';
import type { MappingBacking } from '../../mm/backing';
import { seekPosition } from '../../vfs/file_description';
import { throwHostError } from '../../vfs/host_errno';
import { VfsFile } from '../../vfs/vfs_file';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import type { FileData } from './file_data';
import type { GoferNode } from './session';

export class GoferFile extends VfsFile {
  override readonly seekable = true;
  private pos = 0;

  constructor(flags: number, vd: VirtualDentry, private readonly data: FileData, private readonly node: GoferNode) {
    super(flags, vd);
  }

  override read(_t: Task, dst: Uint8Array, offset: number): number {
    const at = offset >= 0 ? offset : this.pos;
    let n: number;
    try { n = this.data.pread(dst, at); } catch (e) { hostError(e); }
    if (offset < 0) this.pos += n;
    return n;
  }

  override write(_t: Task, src: Uint8Array, offset: number): number {
    let at = offset >= 0 ? offset : this.pos;
    if (this.flags & O_APPEND) at = this.size();
    let n: number;
    try { n = this.data.pwrite(src, at); } catch (e) { hostError(e); }
    // Size and times changed: the next stat asks the server.
    this.node.attrAt = -Infinity;
    if (offset < 0) this.pos = at + n;
    return n;
  }

  override lseek(offset: number, whence: number): number {
    this.pos = seekPosition(this.pos, this.size(), offset, whence);
    return this.pos;
  }

  override size(): number {
    try { return this.data.size(); } catch (e) { hostError(e); }
  }

  override fsync(): void {
    try { this.data.fsync(false); } catch (e) { hostError(e); }
  }

  override ioctl(t: Task, cmd: number, arg: number): number {
    if (cmd !== FIONREAD) throw new SyscallError(ENOTTY);
    t.mm.writeI32(arg, Math.max(0, Math.min(this.size() - this.pos, 0x7fffffff)));
    return 0;
  }

  override mappable(): MappingBacking { return this.data.backing(this.describe()); }

  override release(): void { this.data.release(); }
}

function hostError(e: unknown): never {
  if (e instanceof SyscallError) throw e;
  throwHostError(e);
}
