// memfd_secret's files (Linux mm/secretmem.c): memory that only the file's mappings reach.
// The data lives in tmpfs pages of memfd's internal mount, but the file has no read, write
// or fallocate (EINVAL, EOPNOTSUPP), its size can be set once, and it maps only MAP_SHARED,
// always locked (MappingBacking.secret; sys_mm.ts applies it). /proc shows
// "/secretmem (deleted)".

import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { EINVAL, ENOTTY, ENOTSUP as EOPNOTSUPP } from '../../abi/linux/errno';
import { O_LARGEFILE, O_RDWR } from '../../abi/linux/fcntl';
import { S_IFREG } from '../../abi/linux/stat';
import type { MappingBacking } from '../../mm/backing';
import { Dentry } from '../../vfs/dentry';
import type { FileDescription } from '../../vfs/file_description';
import type { SetAttr } from '../../vfs/inode';
import { VfsFile } from '../../vfs/vfs_file';
import { VirtualDentry } from '../../vfs/virtual_dentry';
import { memfdMount } from './memfd';
import { TmpfsRegular } from './regular';
import type { TmpfsFS } from './tmpfs';

class SecretMemInode extends TmpfsRegular {
  override open(_t: Task | null, vd: VirtualDentry, flags: number): FileDescription {
    this.opens++;
    return new SecretMemFile(flags, vd, this);
  }

  /** secretmem_setattr: a size only while there is none. */
  override setattr(a: SetAttr): void {
    if (a.size !== undefined && this.size !== 0) throw new SyscallError(EINVAL);
    super.setattr(a);
  }
}

class SecretMemFile extends VfsFile {
  constructor(flags: number, vd: VirtualDentry, private readonly data: SecretMemInode) {
    super(flags, vd);
  }

  override read(): number { throw new SyscallError(EINVAL); }
  override write(): number { throw new SyscallError(EINVAL); }
  override ioctl(): number { throw new SyscallError(ENOTTY); }
  override fallocate(): void { throw new SyscallError(EOPNOTSUPP); }
  override size(): number { return this.data.size; }
  override mappable(): MappingBacking { return { ...this.data.backing(this.describe()), secret: true }; }
  override release(): void { this.data.closed(); }
}

/** A new secret memory file, open read-write; the caller installs it and drops this reference. */
export function secretmemCreate(t: Task): FileDescription {
  const m = memfdMount(t.kernel.mf);
  const inode = new SecretMemInode(m.fs as TmpfsFS, S_IFREG | 0o600, t.creds.fsuid, t.creds.fsgid);
  inode.nlink = 0;
  const d = new Dentry('secretmem', m.root, inode);
  d.deleted = true;
  return inode.open(t, new VirtualDentry(m, d), O_RDWR | O_LARGEFILE);
}
