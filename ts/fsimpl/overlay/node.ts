// OverlayNode: one file as the overlay shows it: its upper inode (once it has one), its
// lower node (if the lower layer has it), and its place (parent and name, which copy-up
// needs). Reads are served by whichever layer holds the file; every change copies up first.

import type { Task } from '../../kernel/task';
import type { Credentials } from '../../kernel/credentials';
import { SyscallError } from '../../kernel/syscall_error';
import { EINVAL, ELOOP, ENODATA, ENOTEMPTY, ENXIO, EXDEV } from '../../abi/linux/errno';
import { O_ACCMODE, O_RDONLY } from '../../abi/linux/fcntl';
import { RENAME_EXCHANGE, RENAME_WHITEOUT, dtypeOfMode } from '../../abi/linux/fs';
import { S_IFCHR, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG, type Stat } from '../../abi/linux/stat';
import { openFifo } from '../../kernel/fifo';
import { Inode, type DirEntry, type SetAttr } from '../../vfs/inode';
import type { FileDescription } from '../../vfs/file_description';
import { DirectoryFile } from '../../vfs/directory_file';
import { openCharDevice } from '../../vfs/devices';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import type { LowerNode } from '../gofer/lower_fs';
import { LowerFile } from '../gofer/lower_file';
import { TmpfsDir } from '../tmpfs/dir';
import type { TmpfsInode } from '../tmpfs/inode';
import { XATTR_SECURITY_PREFIX, XATTR_TRUSTED_PREFIX, XATTR_USER_PREFIX, resolveXattrName } from '../../vfs/xattr';
import { copyUp } from './copy_up';
import type { OverlayFS } from './overlay';

/** The namespaces of the host's file systems behind the lower layer (ext4's). */
const LOWER_XATTR_PREFIXES = [XATTR_SECURITY_PREFIX, XATTR_TRUSTED_PREFIX, XATTR_USER_PREFIX];

export class OverlayNode extends Inode {
  constructor(
    readonly fs: OverlayFS,
    public parent: OverlayNode | null,
    public name: string,
    public upper: TmpfsInode | null,
    readonly lower: LowerNode | null,
  ) {
    super();
  }

  get mode(): number { return this.upper ? this.upper.mode : this.lower!.attr.mode; }
  get uid(): number { return this.upper ? this.upper.uid : this.lower!.attr.uid; }
  get gid(): number { return this.upper ? this.upper.gid : this.lower!.attr.gid; }

  /** ovl_fileattr_get/set: the upper file's flags; setting them copies the file up. A lower
   *  file (the host's) shows none. */
  override get fsFlags(): number { return this.upper?.fsFlags ?? 0; }
  override get keepsFsFlags(): boolean { return true; }
  override setFsFlags(flags: number): void { copyUp(this).setFsFlags(flags); }

  stat(): Stat {
    if (this.upper) return { ...this.upper.stat(), dev: this.fs.dev, ino: this.fs.inoOf(this.upper) };
    return { ...this.fs.lower.getattr(this.lower!), dev: this.fs.dev };
  }

  /** One key per file however many nodes show it, stable across copy-up (fsnotify): the
   *  lower file's identity if there is one, else the upper inode. */
  override notifyKey(): unknown {
    const a = this.lower?.attr;
    return a ? `${this.fs.dev}:${a.dev}:${a.ino}` : this.upper;
  }

  private canon: object | null = null;
  /** A lower file's one node (OverlayFS.canonical), kept across copy-up; an upper-only file
   *  is its upper inode (whose hard links share it). Kept alive by every alias. */
  override identity(): object {
    return this.canon ??= this.lower ? this.fs.canonical(this) : (this.upper ?? this);
  }

  /** A name only the lower layer has is current while the lower layer says so (the host may
   *  change its tree); one with an upper inode is the overlay's own. */
  override revalidate(ahead?: readonly string[]): boolean {
    if (this.upper || !this.lower) return true;
    return this.fs.lower.revalidate?.(this.lower, ahead) ?? true;
  }

  override evicted(): void {
    if (this.lower) this.fs.lower.evict?.(this.lower);
  }

  private get upperDir(): TmpfsDir | null {
    return this.upper instanceof TmpfsDir ? this.upper : null;
  }

  /** Does the lower layer show name in this directory? (then removing it needs a whiteout) */
  private lowerHas(name: string): boolean {
    if (!this.lower || this.fs.isOpaque(this.upper)) return false;
    return this.fs.lower.walk(this.lower, name) !== null;
  }

  open(t: Task | null, vd: VirtualDentry, flags: number): FileDescription {
    const type = this.mode & S_IFMT;
    if (type === S_IFDIR) return new DirectoryFile(flags, vd);
    if ((flags & O_ACCMODE) !== O_RDONLY && type === S_IFREG) copyUp(this);
    if (this.upper) return this.upper.open(t, vd, flags);
    const lower = this.lower!;
    // Device nodes of the host open our own drivers, never the host's devices.
    if (type === S_IFCHR) return openCharDevice(t, lower.attr.rdev, vd, flags);
    if (type === S_IFIFO) return openFifo(t, this.identity() as OverlayNode, vd, flags);
    if (type !== S_IFREG) throw new SyscallError(type === 0o120000 ? ELOOP : ENXIO);
    return new LowerFile(flags, vd, this.fs.lower.open(lower));
  }

  override setattr(a: SetAttr): void {
    copyUp(this, a.size !== 0).setattr(a);
  }

  /** ovl_update_time: the upper file's atime; a file only below is not copied up for it. */
  override accessed(): void { this.upper?.accessed(); }

  /** ovl_xattr_get: the upper file's, or what the lower layer shares (user.*; the host's
   *  other namespaces stay unseen: none of those). */
  override getxattr(name: string): Uint8Array {
    if (this.upper) return this.upper.getxattr(name);
    resolveXattrName(name, LOWER_XATTR_PREFIXES);
    const lower = this.fs.lower;
    if (!name.startsWith(XATTR_USER_PREFIX) || !lower.getxattr) throw new SyscallError(ENODATA);
    return lower.getxattr(this.lower!, name);
  }

  /** The upper layer's (tmpfs): ACL changes copy up first, as any change. */
  override get posixAcl(): boolean { return !this.isSymlink; }

  /** ovl_xattr_set: on the upper file, copied up first (with its data: ovl_copy_up). */
  override setxattr(name: string, value: Uint8Array | null, flags: number): void {
    copyUp(this).setxattr(name, value, flags);
  }

  override listxattr(trusted: boolean): string[] {
    if (this.upper) return this.upper.listxattr(trusted);
    return this.fs.lower.listxattr?.(this.lower!) ?? [];
  }

  override readlink(t: Task | null): string {
    return this.upper ? this.upper.readlink(t) : this.fs.lower.readlink(this.lower!);
  }

  override lookup(name: string, ahead?: readonly string[]): Inode | null {
    const fs = this.fs;
    if (fs.isWhiteout(this.upperDir, name)) return null;
    const u = (this.upperDir?.lookup(name) ?? null) as TmpfsInode | null;
    let l: LowerNode | null = null;
    if (this.lower && !fs.isOpaque(this.upper) && (!u || u.isDir)) {
      l = fs.lower.walk(this.lower, name, ahead);
      // An upper directory merges only with a lower directory.
      if (l && u && (l.attr.mode & S_IFMT) !== S_IFDIR) l = null;
    }
    if (!u && !l) return null;
    return new OverlayNode(fs, this, name, u, l);
  }

  override iterate(): DirEntry[] {
    const out = new Map<string, DirEntry>();
    const dir = this.upperDir;
    if (dir) {
      for (const [name, inode] of dir.entries) {
        out.set(name, { name, ino: this.fs.inoOf(inode), type: dtypeOfMode(inode.mode) });
      }
    }
    if (this.lower && !this.fs.isOpaque(this.upper)) {
      for (const e of this.fs.lower.readdir(this.lower)) {
        if (!out.has(e.name) && !this.fs.isWhiteout(dir, e.name)) out.set(e.name, e);
      }
    }
    return [...out.values()];
  }

  override parentIno(): number { return (this.parent ?? this).stat().ino; }

  /** The upper directory to create name in, with any whiteout of name cleared. Returns
   *  whether there was one (a directory made there must then hide the lower one). */
  private prepareNew(name: string): { dir: TmpfsDir; hadWhiteout: boolean } {
    const dir = copyUp(this) as TmpfsDir;
    const hadWhiteout = this.fs.isWhiteout(dir, name);
    if (hadWhiteout) this.fs.setWhiteout(dir, name, false);
    return { dir, hadWhiteout };
  }

  private child(name: string, upper: TmpfsInode): OverlayNode {
    return new OverlayNode(this.fs, this, name, upper, null);
  }

  override create(name: string, mode: number, creds: Credentials): Inode {
    return this.child(name, this.prepareNew(name).dir.create(name, mode, creds));
  }

  /** ovl_tmpfile: the directory is copied up and the file made in the upper layer. */
  override tmpfile(mode: number, creds: Credentials): Inode {
    const up = (copyUp(this) as TmpfsDir).tmpfile(mode, creds);
    return this.child(`#${this.fs.inoOf(up)}`, up);
  }

  override mkdir(name: string, mode: number, creds: Credentials): Inode {
    const { dir, hadWhiteout } = this.prepareNew(name);
    const d = dir.mkdir(name, mode, creds);
    if (hadWhiteout) this.fs.setOpaque(d);
    return this.child(name, d);
  }

  override symlink(name: string, target: string, creds: Credentials): Inode {
    return this.child(name, this.prepareNew(name).dir.symlink(name, target, creds));
  }

  override mknod(name: string, mode: number, rdev: number, creds: Credentials): Inode {
    return this.child(name, this.prepareNew(name).dir.mknod(name, mode, rdev, creds));
  }

  override link(name: string, target: Inode): Inode {
    const from = copyUp(target as OverlayNode);
    return this.child(name, this.prepareNew(name).dir.link(name, from) as TmpfsInode);
  }

  override unlink(name: string, child: Inode): void {
    const c = child as OverlayNode;
    const dir = copyUp(this) as TmpfsDir;
    const whiteout = this.lowerHas(name);
    if (c.upper) dir.unlink(name, c.upper);
    if (whiteout) this.fs.setWhiteout(dir, name, true);
  }

  override rmdir(name: string, child: Inode): void {
    const c = child as OverlayNode;
    if (c.iterate().length > 0) throw new SyscallError(ENOTEMPTY);
    const dir = copyUp(this) as TmpfsDir;
    const whiteout = this.lowerHas(name);
    if (c.upper) dir.rmdir(name, c.upper);
    if (whiteout) this.fs.setWhiteout(dir, name, true);
  }

  override rename(name: string, child: Inode, newDir: Inode, newName: string, replaced: Inode | null, flags: number): void {
    const c = child as OverlayNode;
    const to = newDir as OverlayNode;
    const r = replaced as OverlayNode | null;
    if (flags & RENAME_WHITEOUT) throw new SyscallError(EINVAL); // as ovl_rename
    // Moving a directory the lower layer has would need redirects: refuse, as overlayfs
    // without redirect_dir does; mv then copies.
    if (c.isDir && c.lower) throw new SyscallError(EXDEV);
    if (r && (flags & RENAME_EXCHANGE) && r.isDir && r.lower) throw new SyscallError(EXDEV);
    if (r && r.isDir && !(flags & RENAME_EXCHANGE) && r.iterate().length > 0) throw new SyscallError(ENOTEMPTY);
    const fromDir = copyUp(this) as TmpfsDir;
    const toDir = copyUp(to) as TmpfsDir;
    const moving = copyUp(c);
    if (flags & RENAME_EXCHANGE) {
      const other = copyUp(r!);
      fromDir.rename(name, moving, toDir, newName, other, flags);
      r!.parent = this; r!.name = name;
    } else {
      const leaveWhiteout = this.lowerHas(name);
      const hideLowerDir = c.isDir && to.lowerHas(newName);
      fromDir.rename(name, moving, toDir, newName, r?.upper ?? null, flags);
      this.fs.setWhiteout(toDir, newName, false);
      if (leaveWhiteout) this.fs.setWhiteout(fromDir, name, true);
      if (hideLowerDir) this.fs.setOpaque(moving as TmpfsDir);
    }
    c.parent = to; c.name = newName;
  }
}
