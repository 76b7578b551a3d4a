// TmpfsDir: a tmpfs directory, a map from names to inodes. Link counts follow Linux: a
// directory has 2 + one per subdirectory (their '..').

import type { Task } from '../../kernel/task';
import type { Credentials } from '../../kernel/credentials';
import { SyscallError } from '../../kernel/syscall_error';
import { EEXIST, EINVAL, EMLINK, ENOTEMPTY } from '../../abi/linux/errno';
import { RENAME_EXCHANGE, RENAME_WHITEOUT, dtypeOfMode } from '../../abi/linux/fs';
import type { DirEntry, Inode } from '../../vfs/inode';
import type { FileDescription } from '../../vfs/file_description';
import { DirectoryFile } from '../../vfs/directory_file';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import { TmpfsInode, newOwner } from './inode';
import { S_IFCHR } from '../../abi/linux/stat';
import { TmpfsRegular } from './regular';
import { TmpfsSpecial } from './special';
import { TmpfsSymlink } from './symlink';
import type { TmpfsFS } from './tmpfs';

const LINK_MAX = 65000;

export class TmpfsDir extends TmpfsInode {
  readonly entries = new Map<string, TmpfsInode>();

  constructor(fs: TmpfsFS, mode: number, uid: number, gid: number, public parent: TmpfsDir | null) {
    super(fs, mode, uid, gid);
    this.nlink = 2;
  }

  get size(): number { return 4096; }
  override get blocks(): number { return 0; }

  open(_t: Task | null, vd: VirtualDentry, flags: number): FileDescription {
    return new DirectoryFile(flags, vd);
  }

  override lookup(name: string): Inode | null {
    return this.entries.get(name) ?? null;
  }

  override iterate(): DirEntry[] {
    const out: DirEntry[] = [];
    for (const [name, inode] of this.entries) out.push({ name, ino: inode.ino, type: dtypeOfMode(inode.mode) });
    return out;
  }

  override parentIno(): number { return (this.parent ?? this).ino; }

  private add(name: string, inode: TmpfsInode): TmpfsInode {
    if (this.entries.has(name)) throw new SyscallError(EEXIST);
    this.entries.set(name, inode);
    this.modified();
    return inode;
  }

  override create(name: string, mode: number, creds: Credentials): TmpfsRegular {
    const o = newOwner(this, creds, mode);
    return this.add(name, new TmpfsRegular(this.fs, o.mode, o.uid, o.gid)) as TmpfsRegular;
  }

  /** shmem_tmpfile: a file of this file system in no directory; the directory is unchanged. */
  override tmpfile(mode: number, creds: Credentials): TmpfsRegular {
    const o = newOwner(this, creds, mode);
    const f = new TmpfsRegular(this.fs, o.mode, o.uid, o.gid);
    f.nlink = 0;
    return f;
  }

  override mkdir(name: string, mode: number, creds: Credentials): TmpfsDir {
    if (this.nlink >= LINK_MAX) throw new SyscallError(EMLINK);
    const o = newOwner(this, creds, mode);
    const d = new TmpfsDir(this.fs, o.mode, o.uid, o.gid, this);
    this.add(name, d);
    this.nlink++;
    return d;
  }

  override symlink(name: string, target: string, creds: Credentials): TmpfsSymlink {
    const o = newOwner(this, creds, 0o120777);
    return this.add(name, new TmpfsSymlink(this.fs, o.uid, o.gid, target)) as TmpfsSymlink;
  }

  override mknod(name: string, mode: number, rdev: number, creds: Credentials): TmpfsSpecial {
    const o = newOwner(this, creds, mode);
    return this.add(name, new TmpfsSpecial(this.fs, o.mode, o.uid, o.gid, rdev)) as TmpfsSpecial;
  }

  override link(name: string, target: Inode): Inode {
    const inode = target as TmpfsInode;
    if (inode.nlink >= LINK_MAX) throw new SyscallError(EMLINK);
    if (this.entries.has(name)) throw new SyscallError(EEXIST);
    // Each extra link is charged an inode (shmem_link); an O_TMPFILE file's first is not.
    if (inode.nlink > 0) this.fs.reserveInode();
    this.add(name, inode);
    inode.nlink++;
    inode.ctime = this.mtime;
    return inode;
  }

  override unlink(name: string, child: Inode): void {
    this.entries.delete(name);
    this.modified();
    (child as TmpfsInode).dropLink();
  }

  override rmdir(name: string, child: Inode): void {
    const dir = child as TmpfsDir;
    if (dir.entries.size > 0) throw new SyscallError(ENOTEMPTY);
    this.entries.delete(name);
    this.nlink--;
    this.modified();
    dir.nlink = 0;
    dir.released();
  }

  private whiteout(creds: Credentials | undefined): TmpfsSpecial {
    if (!creds) throw new SyscallError(EINVAL);
    const o = newOwner(this, creds, S_IFCHR);
    return new TmpfsSpecial(this.fs, o.mode, o.uid, o.gid, 0);
  }

  override rename(name: string, child: Inode, newDir: Inode, newName: string, replaced: Inode | null, flags: number, creds?: Credentials): void {
    const to = newDir as TmpfsDir;
    const moving = child as TmpfsInode;
    if (flags & RENAME_EXCHANGE) {
      const other = replaced as TmpfsInode;
      this.entries.set(name, other);
      to.entries.set(newName, moving);
      if (moving instanceof TmpfsDir && other instanceof TmpfsDir) { moving.parent = to; other.parent = this; }
      else if (moving instanceof TmpfsDir) { moving.parent = to; to.nlink++; this.nlink--; }
      else if (other instanceof TmpfsDir) { other.parent = this; this.nlink++; to.nlink--; }
      this.modified(); to.modified();
      // simple_rename_timestamp: both inodes' ctime too.
      moving.ctime = other.ctime = this.mtime;
      return;
    }
    if (replaced instanceof TmpfsDir && replaced.entries.size > 0) throw new SyscallError(ENOTEMPTY);
    // shmem_whiteout: a 0:0 character device of mode 0, the renamer's, is made first (a
    // file system out of inodes fails the rename before anything moved), at the old name.
    const whiteout = flags & RENAME_WHITEOUT ? this.whiteout(creds) : null;
    if (replaced) {
      const r = replaced as TmpfsInode;
      if (r instanceof TmpfsDir) {
        r.nlink = 0;
        r.released();
        to.nlink--;
      } else {
        r.dropLink();
      }
    }
    if (whiteout) this.entries.set(name, whiteout); else this.entries.delete(name);
    to.entries.set(newName, moving);
    if (moving instanceof TmpfsDir) {
      moving.parent = to;
      this.nlink--;
      to.nlink++;
    }
    // simple_rename_timestamp: the directories' times and the moved inode's ctime are now
    // (the replaced inode's went with its link).
    this.modified();
    to.modified();
    moving.ctime = this.mtime;
  }


}
