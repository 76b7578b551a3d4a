// KSymlink: a kernfs symlink whose target is computed for the caller (/proc/self), and
// magic links (/proc/<pid>/fd/N, exe, cwd) that path resolution follows to the file itself.

import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { ELOOP } from '../../abi/linux/errno';
import { S_IFLNK } from '../../abi/linux/stat';
import type { MagicTarget } from '../../vfs/inode';
import type { FileDescription } from '../../vfs/file_description';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import { KInode, type KAttr } from './inode';
import type { KernFS } from './kernfs';

export class KSymlink extends KInode {
  constructor(fs: KernFS, key: string, private readonly target: (t: Task | null) => string,
    private readonly magic: ((t: Task | null) => MagicTarget | null) | null = null, attr: KAttr = {},
    perm = 0o777) {
    super(fs, key, S_IFLNK | perm, attr);
  }

  protected override get size(): number { return 0; }

  override readlink(t: Task | null): string { return this.target(t); }

  override magicLink(t: Task | null): MagicTarget | null { return this.magic ? this.magic(t) : null; }

  open(_t: Task | null, _vd: VirtualDentry, _flags: number): FileDescription {
    throw new SyscallError(ELOOP);
  }
}
