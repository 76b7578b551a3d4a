// TmpfsRegularFile: an open tmpfs regular file: a position over TmpfsRegular's data.

import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { EINVAL, ENOTSUP as EOPNOTSUPP } from '../../abi/linux/errno';
import { O_APPEND, O_NOATIME, SEEK_DATA, SEEK_HOLE } from '../../abi/linux/fcntl';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE } from '../../abi/linux/fs';
import type { MappingBacking } from '../../mm/backing';
import { seekPosition } from '../../vfs/file_description';
import { VfsFile } from '../../vfs/vfs_file';
import { removePrivs } from '../../vfs/attr_ops';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import { OutOfMemoryWrite, type TmpfsRegular, type UserRange } from './regular';

export class TmpfsRegularFile extends VfsFile {
  override readonly seekable = true;
  private pos = 0;

  constructor(flags: number, vd: VirtualDentry, readonly data: TmpfsRegular) {
    super(flags, vd);
  }

  override read(_t: Task, dst: Uint8Array, offset: number): number {
    const at = offset >= 0 ? offset : this.pos;
    const n = this.data.read(dst, at);
    if (offset < 0) this.pos += n;
    // shmem_file_read_iter: file_accessed, a read of 0 bytes included.
    if ((this.flags & O_NOATIME) === 0) this.data.accessed();
    return n;
  }

  /** read(2) with no buffer between the file's pages and the application's. */
  override readDirect(t: Task, ranges: readonly UserRange[], offset: number): number {
    const at = offset >= 0 ? offset : this.pos;
    try {
      const n = this.data.readToUser(t.mm, ranges, at);
      if (offset < 0) this.pos += n;
      return n;
    } finally {
      if ((this.flags & O_NOATIME) === 0) this.data.accessed();
    }
  }

  override writeDirect(t: Task, ranges: readonly UserRange[], offset: number): number {
    let len = 0;
    for (const r of ranges) len += r.len;
    return this.writeWith(t, offset, len, (at) => this.data.writeFromUser(t.mm, ranges, at));
  }

  override write(t: Task, src: Uint8Array, offset: number): number {
    return this.writeWith(t, offset, src.length, (at) => this.data.write(src, at));
  }

  private writeWith(t: Task, offset: number, len: number, write: (at: number) => number): number {
    // file_remove_privs: a write of anything drops the file capability and set-id bits first.
    if (len > 0) {
      this.data.killPriv();
      removePrivs(t.creds, this.vd);
    }
    // O_APPEND puts every write at the end, pwrite's too (Linux does the same).
    let at = offset >= 0 ? offset : this.pos;
    if (this.flags & O_APPEND) at = this.data.size;
    let n;
    try {
      n = write(at);
    } catch (e) {
      if (!(e instanceof OutOfMemoryWrite)) throw e;
      // Linux charges tmpfs pages to the memory cgroup, and a charge past its limit invokes
      // the OOM killer (a dd into /dev/shm under memory.limit_in_bytes=64M dies of SIGKILL
      // with 64M written): the writer is killed, what it wrote stays.
      t.mm.outOfMemory();
      if (e.written === 0) throw e;
      n = e.written;
    }
    if (offset < 0) this.pos = at + n;
    return n;
  }

  override lseek(offset: number, whence: number): number {
    if (whence === SEEK_DATA || whence === SEEK_HOLE) {
      this.pos = this.data.seekHoleData(offset, whence === SEEK_DATA);
      return this.pos;
    }
    this.pos = seekPosition(this.pos, this.data.size, offset, whence);
    return this.pos;
  }

  override size(): number { return this.data.size; }

  /** shmem_fallocate: allocation (KEEP_SIZE or not) and PUNCH_HOLE; the other modes are
   *  EOPNOTSUPP, as tmpfs answers. */
  override fallocate(mode: number, offset: number, len: number): void {
    if ((mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) !== 0) throw new SyscallError(EOPNOTSUPP);
    if (offset < 0 || len <= 0) throw new SyscallError(EINVAL);
    if (mode & FALLOC_FL_PUNCH_HOLE) this.data.punchHole(offset, len);
    else this.data.allocate(offset, len, (mode & FALLOC_FL_KEEP_SIZE) !== 0);
  }

  override mappable(): MappingBacking {
    // shmem_mmap: file_accessed.
    if ((this.flags & O_NOATIME) === 0) this.data.accessed();
    return this.data.backing(this.describe());
  }

  override release(): void { this.data.closed(); }
}
