// HostLowerFS: LowerFS served in-process from a host directory with node:fs. Only kernels
// built without a sandbox (the unit tests) use it: a sandbox's root comes from the gofer. Every name is looked up with lstat (symlinks are never followed
// by the host) and files are opened O_RDONLY|O_NOFOLLOW and checked to still be the regular
// file that was walked to. Only regular files are ever opened: host devices, FIFOs and
// sockets are never touched.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { SyscallError } from '../../kernel/syscall_error';
import { ENXIO, ESTALE } from '../../abi/linux/errno';
import { OVERLAYFS_SUPER_MAGIC, dtypeOfMode, type Statfs } from '../../abi/linux/fs';
import { S_IFMT, S_IFREG, type Stat } from '../../abi/linux/stat';
import { statFromHost } from '../../vfs/host_file';
import { throwHostError } from '../../vfs/host_errno';
import type { FileData } from './file_data';
import { HostFd } from './host_fd';
import type { LowerDirent, LowerFS, LowerNode } from './lower_fs';

class HostNode implements LowerNode {
  constructor(readonly hostPath: string, public attr: Stat) {}
}

export class HostLowerFS implements LowerFS {
  readonly root: LowerNode;

  constructor(readonly rootPath: string) {
    const abs = path.resolve(rootPath);
    this.root = new HostNode(abs, lstat(abs) ?? throwStale());
  }

  walk(dir: LowerNode, name: string): LowerNode | null {
    const p = path.join((dir as HostNode).hostPath, name);
    const attr = lstat(p);
    return attr ? new HostNode(p, attr) : null;
  }

  getattr(node: LowerNode): Stat {
    const n = node as HostNode;
    const attr = lstat(n.hostPath);
    if (attr) n.attr = attr;
    return n.attr;
  }

  readdir(dir: LowerNode): LowerDirent[] {
    const base = (dir as HostNode).hostPath;
    let names: string[];
    try { names = fs.readdirSync(base); } catch (e) { throwHostError(e); }
    const out: LowerDirent[] = [];
    for (const name of names) {
      const attr = lstat(path.join(base, name));
      if (attr) out.push({ name, ino: attr.ino, type: dtypeOfMode(attr.mode) });
    }
    return out;
  }

  readlink(node: LowerNode): string {
    try { return fs.readlinkSync((node as HostNode).hostPath); } catch (e) { throwHostError(e); }
  }

  open(node: LowerNode): FileData {
    const n = node as HostNode;
    if ((n.attr.mode & S_IFMT) !== S_IFREG) throw new SyscallError(ENXIO);
    let fd: number;
    try {
      fd = fs.openSync(n.hostPath, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch (e) { throwHostError(e); }
    const st = fs.fstatSync(fd, { bigint: true });
    // Replaced since the walk (by something not regular): refuse rather than guess.
    if ((Number(st.mode) & S_IFMT) !== S_IFREG) {
      fs.closeSync(fd);
      throw new SyscallError(ESTALE);
    }
    return new HostFd(fd);
  }

  statfs(): Statfs {
    let s: fs.StatsFs;
    try { s = fs.statfsSync(this.rootPath); } catch (e) { throwHostError(e); }
    return {
      type: OVERLAYFS_SUPER_MAGIC, bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail,
      files: s.files, ffree: s.ffree, fsid: [0, 0], namelen: 255, frsize: s.bsize, flags: 0,
    };
  }
}

function lstat(p: string): Stat | null {
  try {
    const st = fs.lstatSync(p, { bigint: true, throwIfNoEntry: false });
    return st ? statFromHost(st) : null;
  } catch (e) {
    // A component that is not a directory reads as "no such entry" from here.
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throwHostError(e);
  }
}

function throwStale(): never {
  throw new SyscallError(ESTALE);
}
