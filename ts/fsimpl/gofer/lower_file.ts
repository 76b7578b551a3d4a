// LowerFile: an open regular file of the lower layer. Reads go straight from the host fd the
// layer donated into the application's pages (direct_io.ts; or through 9P reads where the
// server donates none), pread at our own position; mmap fills pages from it. Never writable:
// a write open copies the file up first and opens the copy (overlay/node.ts).

import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { ENXIO } from '../../abi/linux/errno';
import { SEEK_DATA, SEEK_HOLE } from '../../abi/linux/fcntl';
import type { MappingBacking } from '../../mm/backing';
import type { Stat } from '../../abi/linux/stat';
import { seekPosition } from '../../vfs/file_description';
import { throwHostError } from '../../vfs/host_errno';
import { VfsFile } from '../../vfs/vfs_file';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import type { FileData } from './file_data';
import { HostFd } from './host_fd';
import { preadToUser, type UserRange } from './direct_io';
import { withPageCache } from '../../mm/page_cache';

/** Linux's generic_file_llseek for SEEK_DATA/SEEK_HOLE: one extent of data, a hole at EOF. */
function seekWithoutHoles(size: number, offset: number, whence: number): number {
  if (offset < 0 || offset >= size) throw new SyscallError(ENXIO);
  return whence === SEEK_DATA ? offset : size;
}

export class LowerFile extends VfsFile {
  override readonly seekable = true;
  private pos = 0;
  /** The file's inode number when opened (its name's attributes are fresh then). */
  private readonly ino: number;
  constructor(flags: number, vd: VirtualDentry, private readonly host: FileData) {
    super(flags, vd);
    this.ino = vd.inode.stat().ino;
  }

  /** fstat is of the open file, not of its name: once the host has renamed or removed the
   *  file, the name leads elsewhere or nowhere, and the open file itself answers. */
  override stat(): Stat {
    const st = this.byName();
    if (st !== null) return st;
    let h: Stat;
    try { h = this.host.stat(); } catch (e) { throwHostError(e); }
    return { ...h, dev: this.vd.inode.fs.dev, ino: this.ino };
  }

  override statBy(t: Task): Stat | Promise<Stat> {
    const slow = this.blocking();
    if (!slow) return this.stat();
    return this.byName() ?? slow.statAsync(t).then((h) => ({ ...h, dev: this.vd.inode.fs.dev, ino: this.ino }));
  }

  /** The name's attributes, if it still leads to this file. */
  private byName(): Stat | null {
    let st: Stat | null = null;
    try { st = this.vd.inode.stat(); } catch (e) { if (!(e instanceof SyscallError)) throw e; }
    return st !== null && st.ino === this.ino ? st : null;
  }

  override read(t: Task, dst: Uint8Array, offset: number): number | Promise<number> {
    const at = offset >= 0 ? offset : this.pos;
    const slow = this.blocking();
    if (slow) {
      // A FUSE or NFS mount inside the root tree: off the sentry's thread (host_fd.ts).
      return slow.preadAsync(t, dst, at).then((n) => {
        if (offset < 0) this.pos += n;
        return n;
      });
    }
    let n: number;
    try { n = this.host.pread(dst, at); } catch (e) { throwHostError(e); }
    if (offset < 0) this.pos += n;
    return n;
  }

  /** A donated fd on a file system that may block (read() then reads it on the pool). */
  private blocking(): HostFd | null {
    return this.host instanceof HostFd && this.host.mayBlock ? this.host : null;
  }

  /** A donated host fd: pread straight into the application's pages. */
  override readDirect(t: Task, ranges: readonly UserRange[], offset: number): number | undefined {
    if (!(this.host instanceof HostFd) || this.host.mayBlock) return undefined;
    const n = preadToUser(t, this.host.fd, ranges, offset >= 0 ? offset : this.pos);
    if (offset < 0) this.pos += n;
    return n;
  }

  /** copy_file_range/sendfile from here: the donated host fd (sys_sendfile.ts). */
  override hostDataFd(): number | undefined {
    return this.host instanceof HostFd ? this.host.fd : undefined;
  }

  override lseek(offset: number, whence: number): number {
    if (whence === SEEK_DATA || whence === SEEK_HOLE) {
      this.pos = this.host.seekHoleData !== undefined
        ? this.host.seekHoleData(offset, whence)
        : seekWithoutHoles(this.size(), offset, whence);
      return this.pos;
    }
    this.pos = seekPosition(this.pos, this.size(), offset, whence);
    return this.pos;
  }

  override size(): number {
    try { return this.host.size(); } catch (e) { throwHostError(e); }
  }

  /** Private mappings share the page cache (mm/page_cache.ts): the lower layer is read-only
   *  here, only the host can change a file, and a changed version starts afresh. */
  override mappable(): MappingBacking {
    const host = this.host;
    return {
      ...withPageCache(host.backing(this.describe()), () => {
        const st = host.stat();
        return { key: `lower:${st.dev}:${st.ino}`, version: `${st.mtime.sec}.${st.mtime.nsec}:${st.ctime.sec}.${st.ctime.nsec}:${st.size}` };
      }),
      copyWhenWritable: true,
    };
  }

  override release(): void { this.host.release(); }
}
