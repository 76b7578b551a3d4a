// GoferFS: a writable file system served by a gofer tree (--volume, and the root with
// --overlay=none): every change is a 9P request, so it reaches the host tree. Inodes wrap the
// session's nodes; their attributes are revalidated after ATTR_TTL_MS, and a cached name is
// checked against the server again after the same time (revalidate(): the VFS drops a name
// the host removed or replaced), so a change made on the host side is seen.
// It never follows a symlink on the host (the VFS resolves links itself, in the sandbox).

import type { Task } from '../../kernel/task';
import type { Credentials } from '../../kernel/credentials';
import { SyscallError } from '../../kernel/syscall_error';
import { ELOOP, ENOENT, ENXIO, EPERM } from '../../abi/linux/errno';
import { O_ACCMODE, O_CREAT, O_RDONLY, O_RDWR } from '../../abi/linux/fcntl';
import type { NativeMemoryFile } from '../../native/addon';
import { SharedCache } from './shared_cache';
import { RENAME_EXCHANGE, type Statfs } from '../../abi/linux/fs';
import { S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, devMajor, devMinor, type Stat } from '../../abi/linux/stat';
import { openFifo } from '../../kernel/fifo';
import { DirectoryFile } from '../../vfs/directory_file';
import { openCharDevice } from '../../vfs/devices';
import type { FileDescription } from '../../vfs/file_description';
import { FileSystem } from '../../vfs/file_system';
import { Inode, type DirEntry, type SetAttr } from '../../vfs/inode';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import * as p9 from '../../p9/client';
import type { FileData } from './file_data';
import { GoferFile } from './gofer_file';
import { HostFd } from './host_fd';
import { P9Data } from './p9_data';
import { openData, readdirAll, readdirAttrAll } from './gofer_lower';
import { GoferNode, type GoferSession } from './session';
import { getxattr9p, listxattr9p, setxattr9p } from './xattr_9p';
import { SyntheticDir } from './synthetic_dir';
import { InodeIdentities } from '../../vfs/inode_identity';
import { takeOpenWait } from '../../vfs/open_wait';
import { withoutHostWait } from '../../vfs/host_wait';
import { afterChange } from '../../vfs/change_wait';
import { inoOfQidPath } from './qid_ino';
import { newOwner } from '../../vfs/new_owner';

const V9FS_MAGIC = 0x01021997;
const AT_REMOVEDIR = 0x200;

export class GoferFS extends FileSystem {
  override readonly hostBacked = true;
  override readonly evictDentries = true;
  readonly type = '9p';
  readonly root: GoferInode;

  constructor(readonly session: GoferSession, readonly aname: string, uid: number, readonly mf: NativeMemoryFile) {
    super();
    this.root = new GoferInode(this, session.attach(aname, uid));
  }

  override get source(): string { return this.aname; }

  /** One GoferInode per host file (qid path) for what is per file: a FIFO's pipe lives in
   *  the sentry, as Linux's v9fs and gVisor do it (the host file only names it, no host
   *  process is reached through it), and every open of the same host file, by whichever name
   *  or dentry, meets the same pipe; its locks are in one table likewise. A file unlinked since
   *  stands for nothing new (its qid path may be another file's later). */
  private readonly identities = new InodeIdentities<bigint, GoferInode>();

  canonical(inode: GoferInode): GoferInode {
    return this.identities.of(inode.node.qid.path, inode, (kept) => kept.node.gone);
  }

  /** Mount points the sandbox made in place of ones the tree lacks or hides (synthetic_dir.ts),
   *  by the qid path of the host directory they are in; they hide a host entry of that name. */
  private readonly synthetic = new Map<bigint, SyntheticDir>();

  /** The mount point called name in directory dir, made in the sentry (never on the host). */
  syntheticMountPoint(dir: GoferInode, name: string): SyntheticDir {
    const path = dir.node.qid.path;
    let holder = this.synthetic.get(path);
    if (!holder) this.synthetic.set(path, holder = new SyntheticDir(this));
    return holder.child(name);
  }

  syntheticIn(dir: GoferNode): SyntheticDir | undefined {
    return this.synthetic.size === 0 ? undefined : this.synthetic.get(dir.qid.path);
  }

  statfs(): Statfs {
    const s = this.session.client.statfs(this.session.fidOf(this.root.node));
    return {
      type: V9FS_MAGIC, bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail,
      files: s.files, ffree: s.ffree, fsid: [0, 0], namelen: s.namelen, frsize: s.bsize, flags: 0,
    };
  }
}

export class GoferInode extends Inode {
  /** The open file Tlcreate gave back, for the open() that follows create(). */
  private created: FileData | null = null;

  constructor(readonly fs: GoferFS, readonly node: GoferNode) {
    super();
  }

  private get s(): GoferSession { return this.fs.session; }
  private get c(): p9.Client { return this.fs.session.client; }
  private attr(): Stat { return this.s.getattr(this.node); }

  get mode(): number { return this.attr().mode; }
  get uid(): number { return this.attr().uid; }
  get gid(): number { return this.attr().gid; }

  stat(): Stat { return { ...this.attr(), dev: this.fs.dev }; }

  /** A file's type never changes (a new file at the name is a new node): the cached mode
   *  answers, without a getattr of stale attributes (each write makes them stale), unless
   *  the node came from a listing without attributes (a file system that may block). */
  private get type(): number {
    const cached = this.node.attr.mode & S_IFMT;
    return cached !== 0 ? cached : this.mode & S_IFMT;
  }
  override get isDir(): boolean { return this.type === S_IFDIR; }
  override get isRegular(): boolean { return this.type === S_IFREG; }
  override get isSymlink(): boolean { return this.type === S_IFLNK; }

  private canon: GoferInode | null = null;
  /** The one object for this host file (GoferFS.canonical), kept alive by every alias. */
  override identity(): GoferInode { return this.canon ??= this.fs.canonical(this); }
  override notifyKey(): unknown { return this.identity(); }

  /** d_revalidate: is the name that led here still this file on the server? */
  override revalidate(ahead?: readonly string[]): boolean { return this.s.revalidate(this.node, ahead); }

  override evicted(): void { this.s.forget(this.node); }

  open(t: Task | null, vd: VirtualDentry, flags: number): FileDescription {
    const type = this.mode & S_IFMT;
    if (type === S_IFDIR) return new DirectoryFile(flags, vd);
    if (type === S_IFCHR) return openCharDevice(t, this.attr().rdev, vd, flags);
    if (type === S_IFLNK) throw new SyscallError(ELOOP);
    if (type === S_IFIFO) return openFifo(t, this.identity(), vd, flags);
    if (type !== S_IFREG) throw new SyscallError(ENXIO);
    let data = this.created;
    this.created = null;
    // Only the access mode goes to the server: truncation is setattr's, appends are ours.
    data ??= openData(this.s, this.node, flags & O_ACCMODE);
    return new GoferFile(flags, vd, data, this.node, () => this.sharedCache());
  }

  /** The file's page cache, made on the first shared mapping, with its own open of the file
   *  (read-write if the host allows: a later writable mapping writes back through it). */
  private sharedCache(): SharedCache {
    const n = this.node;
    if (n.cache) return n.cache;
    let data: FileData | null = null;
    const open = (): FileData => {
      if (data) return data;
      try { data = openData(this.s, n, O_RDWR); } catch { data = openData(this.s, n, O_RDONLY); }
      return data;
    };
    n.cache = new SharedCache(this.fs.mf, open, () => { (data as FileData | null)?.release(); });
    return n.cache;
  }

  override setattr(a: SetAttr): void {
    let valid = 0;
    if (a.mode !== undefined) valid |= p9.SETATTR_MODE;
    if (a.uid !== undefined) valid |= p9.SETATTR_UID;
    if (a.gid !== undefined) valid |= p9.SETATTR_GID;
    if (a.size !== undefined) valid |= p9.SETATTR_SIZE;
    if (a.atime !== undefined) valid |= p9.SETATTR_ATIME | p9.SETATTR_ATIME_SET;
    if (a.mtime !== undefined) valid |= p9.SETATTR_MTIME | p9.SETATTR_MTIME_SET;
    afterChange(() => this.c.setattr(this.s.fidOf(this.node), {
      valid, mode: a.mode !== undefined ? a.mode & 0o7777 : undefined, uid: a.uid, gid: a.gid, size: a.size,
      atime: a.atime, mtime: a.mtime,
    }), () => {
      this.node.attrAt = -Infinity;
      if (a.size !== undefined) this.node.readAhead = null;
    });
  }

  override readlink(_t: Task | null): string {
    return this.s.readlink(this.node);
  }

  /** The host file's attributes, as far as the server shares them (tsvisor-gofer: user.*). */
  override getxattr(name: string): Uint8Array { return getxattr9p(this.c, this.s.fidOf(this.node), name); }

  override listxattr(_trusted: boolean): string[] { return listxattr9p(this.c, this.s.fidOf(this.node)); }

  override setxattr(name: string, value: Uint8Array | null, flags: number): void {
    setxattr9p(this.c, this.s.clone(this.node), name, value, flags);
    this.node.attrAt = -Infinity; // ctime
  }

  override lookup(name: string, ahead?: readonly string[]): Inode | null {
    const syn = this.fs.syntheticIn(this.node)?.lookup(name);
    if (syn) return syn;
    const n = this.s.walk(this.node, name, ahead);
    return n ? new GoferInode(this.fs, n) : null;
  }

  /** With tsvisor-gofer, Treaddirattr for its end flag (one round trip for most directories);
   *  the attributes are not kept: lookups here always ask the server (see session.ts). */
  override iterate(): DirEntry[] {
    const ents = this.s.client.listsWithAttrs ? readdirAttrAll(this.s, this.node, false) : readdirAll(this.s, this.node);
    const syn = this.fs.syntheticIn(this.node);
    const out = ents
      .filter((e) => e.name !== '.' && e.name !== '..' && !syn?.children.has(e.name))
      .map((e) => ({ name: e.name, ino: inoOfQidPath(e.qid.path), type: e.type }));
    if (syn) out.push(...syn.iterate());
    return out;
  }

  override parentIno(): number {
    return this.node.parent ? this.s.getattr(this.node.parent).ino : this.stat().ino;
  }

  /** The child just made under name, walked to. */
  private made(name: string): GoferInode {
    // Not left to the host (host_wait.ts): the retry would make it again.
    const n = withoutHostWait(() => this.s.walk(this.node, name));
    if (!n) throw new SyscallError(ENOENT); // removed on the host at once
    this.node.attrAt = -Infinity; // our mtime and nlink moved
    return new GoferInode(this.fs, n);
  }

  /** The gofer creates as the user of its attach: the node is given the caller's fsuid (a
   *  gofer that may not chown leaves it its own, as PROTOCOL.md says). */
  private owned(child: GoferInode, uid: number): GoferInode {
    if (child.uid === uid) return child;
    try { child.setattr({ uid }); } catch (e) {
      if (!(e instanceof SyscallError) || e.errno !== EPERM) throw e;
    }
    return child;
  }

  override create(name: string, mode: number, creds: Credentials): Inode {
    const fid = this.s.clone(this.node);
    const mayWait = takeOpenWait();
    const owner = newOwner(this, creds, mode);
    let o;
    try { o = this.c.lcreate(fid, name, O_RDWR | O_CREAT, owner.mode & 0o7777, owner.gid, mayWait); } catch (e) {
      // The name existed on the host and its open waits (a lease): wait, then open again
      // (the retry finds the file and opens it; what this open gave is let go).
      if (e instanceof p9.OpenPending) throw this.s.pendingOpens.waitFor(null, 0, e);
      this.c.clunkLater(fid);
      throw e;
    }
    const child = this.owned(this.made(name), owner.uid);
    if (o.fd >= 0) {
      this.c.clunkLater(fid);
      child.created = new HostFd(o.fd);
    } else {
      child.created = new P9Data(this.c, fid, child.node);
    }
    return child;
  }

  override mkdir(name: string, mode: number, creds: Credentials): Inode {
    const owner = newOwner(this, creds, S_IFDIR | mode);
    return afterChange(() => this.c.mkdir(this.s.fidOf(this.node), name, owner.mode & 0o7777, owner.gid),
      () => this.owned(this.made(name), owner.uid));
  }

  override symlink(name: string, target: string, creds: Credentials): Inode {
    const owner = newOwner(this, creds, S_IFLNK | 0o777);
    return afterChange(() => this.c.symlink(this.s.fidOf(this.node), name, target, owner.gid),
      () => this.owned(this.made(name), owner.uid));
  }

  override mknod(name: string, mode: number, rdev: number, creds: Credentials): Inode {
    const owner = newOwner(this, creds, mode);
    return afterChange(() => this.c.mknod(this.s.fidOf(this.node), name, owner.mode, devMajor(rdev), devMinor(rdev), owner.gid),
      () => this.owned(this.made(name), owner.uid));
  }

  override link(name: string, target: Inode): Inode {
    const t = target as GoferInode;
    return afterChange(() => this.c.link(this.s.fidOf(this.node), this.s.fidOf(t.node), name), () => {
      t.node.attrAt = -Infinity; // nlink
      return this.made(name);
    });
  }

  override unlink(name: string, child: Inode): void {
    this.remove(name, child as GoferInode, 0);
  }

  override rmdir(name: string, child: Inode): void {
    this.remove(name, child as GoferInode, AT_REMOVEDIR);
  }

  private remove(name: string, child: GoferInode, flags: number): void {
    afterChange(() => this.c.unlinkOrFallback(this.s.fidOf(this.node), name, flags), () => {
      // Its fid (an open of the inode, on the gofer) still serves fstat of open files.
      child.node.gone = true;
      this.s.dropKeptFd(child.node);
      child.node.attrAt = -Infinity;
      this.node.attrAt = -Infinity;
    });
  }

  override rename(name: string, child: Inode, newDir: Inode, newName: string, replaced: Inode | null, flags: number): void {
    const to = newDir as GoferInode;
    const c = child as GoferInode;
    const r = replaced as GoferInode | null;
    // Flags go in Trenameat2 (tsvisor-gofer), atomic on the host; another server gets none.
    afterChange(() => this.c.renameOrFallback(this.s.fidOf(this.node), name, this.s.fidOf(to.node), newName, flags),
      () => this.renamed(name, c, to, newName, r, flags));
  }

  /** The nodes follow a rename the host made. */
  private renamed(name: string, c: GoferInode, to: GoferInode, newName: string, r: GoferInode | null, flags: number): void {
    // A server whose fids are paths (diod) leaves a moved file's old fid at the old name:
    // walk to it again under the new one.
    this.s.forget(c.node);
    c.node.parent = to.node;
    c.node.name = newName;
    c.node.attrAt = -Infinity;
    if (r && (flags & RENAME_EXCHANGE)) {
      this.s.forget(r.node);
      r.node.parent = this.node;
      r.node.name = name;
      r.node.attrAt = -Infinity;
    } else if (r) {
      r.node.gone = true;
      this.s.dropKeptFd(r.node);
    }
    // The old name may hold a whiteout now (RENAME_WHITEOUT): the next lookup asks the host.
    this.s.changed(this.node);
    this.s.changed(to.node);
  }
}
