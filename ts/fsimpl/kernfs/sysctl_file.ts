// KSysctl: a writable /proc/sys entry (Linux proc_sys_call_handler): reading shows the value,
// a write at offset 0 hands the text to the entry's setter, which validates it (EINVAL) and
// applies it. The mode bits (0644, root's) decide who may open it for writing.

import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { EINVAL, EPERM } from '../../abi/linux/errno';
import { S_IFREG } from '../../abi/linux/stat';
import type { FileDescription } from '../../vfs/file_description';
import type { SetAttr } from '../../vfs/inode';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import { SnapshotFile } from './file';
import { KInode } from './inode';
import type { KernFS } from './kernfs';

/** Longest text a write may carry (a page, as proc_sys_call_handler allows). */
const MAX_WRITE = 4096;

export class KSysctl extends KInode {
  constructor(fs: KernFS, key: string, private readonly get: (t: Task | null) => string,
    private readonly set: (t: Task, text: string) => void, perm = 0o644) {
    super(fs, key, S_IFREG | perm);
  }

  open(t: Task | null, vd: VirtualDentry, flags: number): FileDescription {
    return new SysctlFile(flags, vd, () => Buffer.from(this.get(t), 'utf8'), this.set);
  }

  /** proc_sys_setattr: O_TRUNC (a size change) is accepted and means nothing; ownership and
   *  mode stay. */
  override setattr(attr: SetAttr): void {
    if (attr.mode !== undefined || attr.uid !== undefined || attr.gid !== undefined) throw new SyscallError(EPERM);
  }
}

class SysctlFile extends SnapshotFile {
  constructor(flags: number, vd: VirtualDentry, private readonly get: () => Uint8Array,
    private readonly set: (t: Task, text: string) => void) {
    super(flags, vd, get(), 'size');
  }

  /** proc_sys_read runs the handler on every read: a value written through this very file
   *  (or by anyone) reads back at once. */
  override read(t: Task, dst: Uint8Array, offset: number): number {
    this.data = this.get();
    return super.read(t, dst, offset);
  }

  /** Only a write at the start sets the value (sysctl_writes_strict): one past it is
   *  swallowed, as Linux does. */
  override write(t: Task, src: Uint8Array, offset: number): number {
    if (offset > 0 || (offset < 0 && this.pos > 0)) return src.length;
    if (src.length > MAX_WRITE) throw new SyscallError(EINVAL);
    this.set(t, Buffer.from(src).toString('latin1'));
    if (offset < 0) this.pos += src.length;
    return src.length;
  }
}
