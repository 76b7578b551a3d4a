// GoferFile: an open regular file of a writable gofer file system. Reads and writes go to the
// file's FileData (the donated host fd, or Tread/Twrite), at our own position; with a donated
// fd straight between it and the application's pages (direct_io.ts); O_APPEND is
// ours too (the host fd is never opened O_APPEND, so pwrite lands where we say). Pages of a
// MAP_SHARED mapping reach the host on msync, fsync, and when the last mapping goes.

import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { O_APPEND, SEEK_DATA, SEEK_HOLE } from '../../abi/linux/fcntl';
import type { MappingBacking } from '../../mm/backing';
import { seekPosition } from '../../vfs/file_description';
import { throwHostError } from '../../vfs/host_errno';
import { VfsFile } from '../../vfs/vfs_file';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import type { FileData } from './file_data';
import { HostFd } from './host_fd';
import { addon } from '../../native/addon';
import { copyBetweenHostFds, preadToUser, pwriteFromUser, type UserRange } from './direct_io';
import type { GoferNode } from './session';
import type { Stat } from '../../abi/linux/stat';
import type { SharedCache } from './shared_cache';
import { removePrivs } from '../../vfs/attr_ops';
import { changeBy } from '../../vfs/host_wait';

export class GoferFile extends VfsFile {
  override readonly seekable = true;
  private pos = 0;

  constructor(
    flags: number, vd: VirtualDentry, private readonly data: FileData, private readonly node: GoferNode,
    private readonly cacheOf: () => SharedCache,
  ) {
    super(flags, vd);
  }

  override read(t: Task, dst: Uint8Array, offset: number): number | Promise<number> {
    const at = offset >= 0 ? offset : this.pos;
    const slow = this.blocking();
    if (slow) {
      return slow.preadAsync(t, dst, at).then((n) => {
        if (offset < 0) this.pos += n;
        return n;
      });
    }
    return this.readHere(dst, at, offset);
  }

  override readNow(_t: Task, dst: Uint8Array, offset: number): number {
    return this.readHere(dst, offset >= 0 ? offset : this.pos, offset);
  }

  private readHere(dst: Uint8Array, at: number, offset: number): number {
    let n: number;
    try {
      const cache = this.node.cache;
      n = cache ? cache.pread(dst, at, this.data.size()) : this.data.pread(dst, at);
    } catch (e) { hostError(e); }
    if (offset < 0) this.pos += n;
    return n;
  }

  /** A donated fd on a file system that may block (addon hostFdMayBlock), no MAP_SHARED cache: read
   *  and write go off the sentry's thread, through a buffer (read/write below). */
  private blocking(): HostFd | null {
    return this.data instanceof HostFd && this.data.mayBlock && !this.node.cache ? this.data : null;
  }

  /** A donated host fd and no MAP_SHARED page cache: pread straight into the application. */
  override readDirect(t: Task, ranges: readonly UserRange[], offset: number): number | undefined {
    if (!(this.data instanceof HostFd) || this.node.cache || this.data.mayBlock) return undefined;
    const n = preadToUser(t, this.data.fd, ranges, offset >= 0 ? offset : this.pos);
    if (offset < 0) this.pos += n;
    return n;
  }

  /** The same for writes: pwrite straight from the application's pages. */
  override writeDirect(t: Task, ranges: readonly UserRange[], offset: number): number | undefined {
    if (!(this.data instanceof HostFd) || this.node.cache || this.data.mayBlock) return undefined;
    if (ranges.some((r) => r.len > 0)) this.removePrivs(t);
    let at = offset >= 0 ? offset : this.pos;
    if (this.flags & O_APPEND) at = this.size();
    let n: number;
    try { n = pwriteFromUser(t, this.data.fd, ranges, at); } finally {
      // Size and times may have moved, a faulting write's too: the next stat asks.
      this.node.attrAt = -Infinity;
    }
    if (offset < 0) this.pos = at + n;
    return n;
  }

  /** copy_file_range/sendfile from here: the donated fd, unless a MAP_SHARED cache holds
   *  pages newer than the host's. */
  override hostDataFd(): number | undefined {
    return this.data instanceof HostFd && !this.node.cache ? this.data.fd : undefined;
  }

  /** copy_file_range/sendfile into here from another donated fd: one host copy_file_range. */
  override copyFromHostFd(t: Task, fd: number, inAt: number, offset: number, len: number): number | undefined {
    if (!(this.data instanceof HostFd) || this.node.cache || (this.flags & O_APPEND)) return undefined;
    if (len > 0) this.removePrivs(t);
    const at = offset >= 0 ? offset : this.pos;
    const n = copyBetweenHostFds(fd, inAt, this.data.fd, at, len);
    if (n === undefined) return undefined;
    this.node.attrAt = -Infinity;
    if (offset < 0) this.pos = at + n;
    return n;
  }

  /** file_remove_privs before a write: the host would not drop the set-id bits (the sentry
   *  writes with CAP_FSETID). Decided on the cached mode: every write makes the attributes
   *  stale, and asking the host before each write would cost a round trip per write. */
  private removePrivs(t: Task): void {
    if (this.node.attr.mode & 0o6000) removePrivs(t.creds, this.vd);
  }

  override write(t: Task, src: Uint8Array, offset: number): number | Promise<number> {
    const slow = this.blocking();
    if (slow) return this.writeOffThread(t, slow, src, offset);
    if (src.length > 0) this.removePrivs(t);
    let at = offset >= 0 ? offset : this.pos;
    if (this.flags & O_APPEND) at = this.size();
    let n: number;
    try {
      n = this.data.pwrite(src, at);
      this.node.cache?.wrote(src.subarray(0, n), at);
    } catch (e) { hostError(e); }
    // Size and times changed: the next stat asks the server.
    this.node.attrAt = -Infinity;
    if (offset < 0) this.pos = at + n;
    return n;
  }

  /** write on a file system that may block: an O_APPEND write's size is asked off the
   *  sentry's thread too (a stalled getattr held every task). */
  private async writeOffThread(t: Task, slow: HostFd, src: Uint8Array, offset: number): Promise<number> {
    // The set-id bits' removal (a Tsetattr) is waited for off the sentry's thread too.
    if (src.length > 0 && (this.node.attr.mode & 0o6000)) await changeBy(t, () => removePrivs(t.creds, this.vd));
    try {
      const at = this.flags & O_APPEND ? await slow.sizeAsync(t) : offset >= 0 ? offset : this.pos;
      const n = await slow.pwriteAsync(t, src, at);
      if (offset < 0) this.pos = at + n;
      return n;
    } finally {
      // Size and times changed: the next stat asks the server.
      this.node.attrAt = -Infinity;
    }
  }

  /** fallocate(2) by the host on the donated fd (the host file system knows which modes it
   *  has), unless a MAP_SHARED cache holds pages newer than the host's, which a punched or
   *  moved range would leave stale: then EOPNOTSUPP, glibc's cue to write zeros instead. */
  override fallocate(mode: number, offset: number, len: number): void {
    if (!(this.data instanceof HostFd) || this.node.cache) {
      super.fallocate(mode, offset, len);
      return;
    }
    const r = addon().hostFallocate(this.data.fd, mode, offset, len);
    // Size and blocks may have changed: the next stat asks the server.
    this.node.attrAt = -Infinity;
    if (r < 0) throw new SyscallError(-r);
  }

  /** fstat asks the open file, not the name (which may be gone). */
  override stat(): Stat {
    let st: Stat;
    try { st = this.data.stat(); } catch (e) { hostError(e); }
    return { ...st, dev: this.vd.mount.fs.dev };
  }

  override statBy(t: Task): Stat | Promise<Stat> {
    const slow = this.blocking();
    if (!slow) return this.stat();
    return slow.statAsync(t).then((st) => ({ ...st, dev: this.vd.mount.fs.dev }));
  }

  override lseek(offset: number, whence: number): number {
    // SEEK_DATA/SEEK_HOLE: the host file system knows the file's extents (holes the host or
    // fallocate made), unless a MAP_SHARED cache holds pages the host has not seen yet.
    const extents = (whence === SEEK_DATA || whence === SEEK_HOLE) && !this.node.cache;
    this.pos = extents && this.data.seekHoleData !== undefined
      ? this.data.seekHoleData(offset, whence)
      : seekPosition(this.pos, this.size(), offset, whence);
    return this.pos;
  }

  override size(): number {
    try { return this.data.size(); } catch (e) { hostError(e); }
  }

  override fsync(): void {
    try {
      this.node.cache?.writeBack();
      this.data.fsync(false);
    } catch (e) { hostError(e); }
  }

  /** Private mappings copy pages (through the cache if there is one); shared ones map the
   *  file's SharedCache, written back when the last mapping of the file goes. */
  override mappable(): MappingBacking {
    const base = this.data.backing(this.describe());
    const node = this.node;
    return {
      ...base,
      fill: (mf, fileOffset, mfOffset, length) => {
        const cache = node.cache;
        if (!cache) return base.fill(mf, fileOffset, mfOffset, length);
        const buf = new Uint8Array(length);
        const n = cache.pread(buf, fileOffset, this.data.size());
        if (n > 0) mf.write(mfOffset, buf.subarray(0, n));
      },
      // A fault on a file system that may block has its window staged in base (stage).
      sharedPages: (fileOffset, length) => this.cacheOf().sharedPages(fileOffset, length, base),
      // msync: what the shared mappings wrote reaches the host file now.
      sync: () => {
        try { node.cache?.writeBack(); } catch (e) { hostError(e); }
        node.attrAt = -Infinity;
      },
      hold: (writableShared) => {
        base.hold?.(writableShared);
        node.mappers++;
      },
      drop: (writableShared) => {
        if (--node.mappers === 0 && node.cache) {
          const cache = node.cache;
          node.cache = null;
          node.attrAt = -Infinity;
          try { cache.release(); } catch { /* the host file is gone: nothing to write to */ }
        }
        base.drop?.(writableShared);
      },
    };
  }

  override release(): void { this.data.release(); }
}

function hostError(e: unknown): never {
  if (e instanceof SyscallError) throw e;
  throwHostError(e);
}
