// CgroupFile: one interface file of a cgroup (Linux cftype over kernfs): its text made when
// opened, each write(2) handed whole to the file's handler. Every cgroup file has kernfs's
// read and write operations, so the mode bits alone decide who opens it; a read of a file
// without a show, or a write of one without a handler, is then EINVAL (cgroup_seqfile_show,
// cgroup_file_write). A write longer than a page is E2BIG (atomic_write_len); a write to a
// removed cgroup is ENODEV (cgroup_kn_lock_live).

import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { E2BIG, EINVAL, ENODEV, EPERM } from '../../abi/linux/errno';
import { O_ACCMODE, O_WRONLY } from '../../abi/linux/fcntl';
import { S_IFREG } from '../../abi/linux/stat';
import type { FileDescription } from '../../vfs/file_description';
import type { SetAttr } from '../../vfs/inode';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import { SnapshotFile } from '../kernfs/file';
import { KInode, type KAttr } from '../kernfs/inode';
import type { KernFS } from '../kernfs/kernfs';
import type { Cgroup } from '../../kernel/cgroup/cgroup';

const PAGE_SIZE = 4096;

export type Show = (t: Task | null) => string;
export type Store = (t: Task, text: string) => void;

export class CgroupFile extends KInode {
  constructor(fs: KernFS, key: string, private readonly cg: Cgroup, private readonly show: Show | null,
    private readonly store: Store | null, attr: KAttr) {
    super(fs, key, S_IFREG | (show ? 0o444 : 0) | (store ? 0o200 : 0), attr);
  }

  open(t: Task | null, vd: VirtualDentry, flags: number): FileDescription {
    const text = (flags & O_ACCMODE) !== O_WRONLY && this.show ? this.show(t) : null;
    return new CgroupOpenFile(flags, vd, text === null ? null : Buffer.from(text, 'utf8'), this.cg, this.store);
  }

  /** kernfs_iop_setattr: O_TRUNC's size change means nothing; owner and mode stay (the
   *  sandbox does not delegate by chown). */
  override setattr(attr: SetAttr): void {
    if (attr.mode !== undefined || attr.uid !== undefined || attr.gid !== undefined) throw new SyscallError(EPERM);
  }
}

class CgroupOpenFile extends SnapshotFile {
  /** An empty write reaches the handler, which refuses it as Linux's parsers do. */
  override readonly writesEmpty = true;

  /** text: null for a file without a show (or opened write-only). */
  constructor(flags: number, vd: VirtualDentry, private readonly text: Uint8Array | null, private readonly cg: Cgroup,
    private readonly store: Store | null) {
    super(flags, vd, text ?? new Uint8Array(0), 'seq');
  }

  override read(t: Task, dst: Uint8Array, offset: number): number {
    if (this.text === null) throw new SyscallError(EINVAL);
    return super.read(t, dst, offset);
  }

  override write(t: Task, src: Uint8Array, offset: number): number {
    if (src.length > PAGE_SIZE) throw new SyscallError(E2BIG);
    if (this.cg.removed) throw new SyscallError(ENODEV);
    if (this.store === null) throw new SyscallError(EINVAL);
    this.store(t, Buffer.from(src).toString('latin1'));
    if (offset < 0) this.pos += src.length;
    return src.length;
  }
}
