// /proc/<pid>/attr (Linux fs/proc/base.c proc_pid_attr_*): the security attributes a Linux
// Security Module keeps per task. The sandbox runs no LSM, so each file reads as Linux's do
// when none is built in: the open succeeds and the read fails EINVAL; a write is the task's
// own to make (EACCES from any other task, the same process's other threads included), whole
// (EINVAL past offset 0) and then refused EINVAL by the absent module.

import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { EACCES, EINVAL } from '../../abi/linux/errno';
import { S_IFREG } from '../../abi/linux/stat';
import { seekPosition, type FileDescription } from '../../vfs/file_description';
import { VfsFile } from '../../vfs/vfs_file';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import { KDir, staticChildren } from '../kernfs/dir';
import { KInode, type KAttr } from '../kernfs/inode';
import type { KernFS } from '../kernfs/kernfs';

/** attr_dir_stuff without an LSM's own directory: name and mode. */
const ATTR_FILES: [string, number][] = [
  ['current', 0o666], ['prev', 0o444], ['exec', 0o666], ['fscreate', 0o666], ['keycreate', 0o666], ['sockcreate', 0o666],
];

class AttrInode extends KInode {
  constructor(fs: KernFS, key: string, private readonly task: () => Task | undefined, mode: number, attr: KAttr) {
    super(fs, key, S_IFREG | mode, attr);
  }

  open(_t: Task | null, vd: VirtualDentry, flags: number): FileDescription {
    return new AttrFile(flags, vd, this.task);
  }
}

class AttrFile extends VfsFile {
  override readonly seekable = true;
  override readonly writesEmpty = true;
  private pos = 0;

  constructor(flags: number, vd: VirtualDentry, private readonly task: () => Task | undefined) {
    super(flags, vd);
  }

  /** security_getprocattr with no module to answer. */
  override read(_t: Task, _dst: Uint8Array, _offset: number): number {
    throw new SyscallError(EINVAL);
  }

  override write(t: Task, _src: Uint8Array, offset: number): number {
    if (this.task() !== t) throw new SyscallError(EACCES);
    if ((offset >= 0 ? offset : this.pos) !== 0) throw new SyscallError(EINVAL);
    throw new SyscallError(EINVAL); // security_setprocattr: no module takes it
  }

  /** generic_file_llseek over an inode of size 0. */
  override lseek(offset: number, whence: number): number {
    this.pos = seekPosition(this.pos, 0, offset, whence);
    return this.pos;
  }
}

/** owner: the files' (task_dump_owner); dirOwner: the 0555 directory's (the task's euid). */
export function attrDir(fs: KernFS, key: string, task: () => Task | undefined, owner: KAttr, dirOwner: KAttr): KDir {
  return new KDir(fs, key, staticChildren(() => Object.fromEntries(ATTR_FILES.map(([name, mode]) =>
    [name, new AttrInode(fs, `${key}/${name}`, task, mode, owner)]))), 0o555, dirOwner);
}
