// GoferLowerFS: the overlay's read-only lower layer (LowerFS) served by a gofer tree over 9P.
// Regular files are opened with Tlopen and read through the fd the gofer donates with the
// reply; a server that donates none (diod) is read with Tread on the open fid instead.

import { SyscallError } from '../../kernel/syscall_error';
import { ENXIO } from '../../abi/linux/errno';
import { O_DIRECTORY, O_RDONLY } from '../../abi/linux/fcntl';
import { OVERLAYFS_SUPER_MAGIC, type Statfs } from '../../abi/linux/fs';
import { S_IFMT, S_IFREG, type Stat } from '../../abi/linux/stat';
import type { FileData } from './file_data';
import { HostFd } from './host_fd';
import type { LowerDirent, LowerFS, LowerNode } from './lower_fs';
import { P9Data } from './p9_data';
import { addon } from '../../native/addon';
import { GoferNode, type GoferSession } from './session';

/** Donated read-only fds kept for files opened recently, to open them again with a dup. */
const MAX_KEPT_FDS = 128;

export class GoferLowerFS implements LowerFS {
  readonly root: GoferNode;
  /** Node -> the donated fd of its last open, least recently used first. Read-only and read
   *  with pread at explicit offsets, so every open may share the one description. */
  private readonly keptFds = new Map<GoferNode, number>();

  constructor(readonly session: GoferSession, aname: string, uid = 0) {
    this.root = session.attach(aname, uid);
  }

  walk(dir: LowerNode, name: string): LowerNode | null {
    return this.session.walk(dir as GoferNode, name);
  }

  getattr(node: LowerNode): Stat { return this.session.getattr(node as GoferNode); }

  revalidate(node: LowerNode): boolean {
    const n = node as GoferNode;
    if (this.session.revalidate(n)) return true;
    const kept = this.keptFds.get(n);
    if (kept !== undefined) { this.keptFds.delete(n); addon().p9Close(kept); }
    return false;
  }

  readdir(dir: LowerNode): LowerDirent[] {
    return readdirAll(this.session, dir as GoferNode)
      .filter((e) => e.name !== '.' && e.name !== '..')
      .map((e) => ({ name: e.name, ino: Number(e.qid.path), type: e.type }));
  }

  readlink(node: LowerNode): string {
    const s = this.session;
    return s.client.readlink(s.fidOf(node as GoferNode));
  }

  open(node: LowerNode): FileData {
    const n = node as GoferNode;
    if ((n.attr.mode & S_IFMT) !== S_IFREG) throw new SyscallError(ENXIO);
    const kept = this.keptFds.get(n);
    if (kept !== undefined) {
      this.keptFds.delete(n);
      this.keptFds.set(n, kept);
      return new HostFd(addon().p9DupFd(kept));
    }
    const data = openData(this.session, n, O_RDONLY);
    if (!(data instanceof HostFd)) return data;
    this.keptFds.set(n, addon().p9DupFd(data.fd));
    if (this.keptFds.size > MAX_KEPT_FDS) {
      const [[old, fd]] = this.keptFds;
      this.keptFds.delete(old);
      addon().p9Close(fd);
    }
    return data;
  }

  statfs(): Statfs {
    const s = this.session.client.statfs(this.session.fidOf(this.root));
    return {
      type: OVERLAYFS_SUPER_MAGIC, bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail,
      files: s.files, ffree: s.ffree, fsid: [0, 0], namelen: s.namelen, frsize: s.bsize, flags: 0,
    };
  }
}

/** Tlopen a clone of node's fid (one round trip): the donated fd if one came (the fid is then let go), else
 *  the open fid for Tread/Twrite. */
export function openData(s: GoferSession, node: GoferNode, flags: number): FileData {
  const o = s.client.cloneOpen(s.fidOf(node), flags);
  if (o.fd < 0) return new P9Data(s.client, o.fid);
  s.client.clunkLater(o.fid);
  return new HostFd(o.fd);
}

/** Every entry of directory node ('.' and '..' included, as the server gives them). */
export function readdirAll(s: GoferSession, dir: GoferNode): import('../../p9/messages').Dirent[] {
  const fid = s.client.cloneOpen(s.fidOf(dir), O_RDONLY | O_DIRECTORY).fid;
  try {
    const out = [];
    let off = 0n;
    for (;;) {
      const ents = s.client.readdir(fid, off);
      if (ents.length === 0) break;
      out.push(...ents);
      off = ents[ents.length - 1].offset;
    }
    return out;
  } finally {
    s.client.clunkLater(fid);
  }
}
