// tmpfs: a file system that lives in memory (Linux mm/shmem.c, gVisor fsimpl/tmpfs). It owns
// the directory tree, symlinks, special files and regular-file data kept in memory-file
// pages (so that MAP_SHARED mappings of a file share its pages), and nothing else: no path
// resolution (the VFS's), no permission policy (the VFS checks before calling in), no host
// files. Used for /tmp-like mounts, /dev/shm and as the writable upper layer of the overlay.
// A mount's size= and nr_inodes= limits are kept here: blocks are the data pages its files
// hold (and long symlinks), inodes its files and each extra hard link, as shmem counts them.

import type { NativeMemoryFile } from '../../native/addon';
import type { Statfs } from '../../abi/linux/fs';
import { TMPFS_MAGIC } from '../../abi/linux/fs';
import { EINVAL, ENOSPC } from '../../abi/linux/errno';
import { fail } from '../../kernel/syscall_error';
import { S_IFDIR } from '../../abi/linux/stat';
import { FileSystem } from '../../vfs/file_system';
import { TmpfsDir } from './dir';
import { showTmpfsOptions, type TmpfsGiven, type TmpfsParams } from './tmpfs_options';
import { XattrSpace } from '../../vfs/xattr';

/** Bytes of extended attributes one tmpfs may hold. Linux charges them to the inode space
 *  (nr_inodes * 1 KiB); here they live in the sentry's heap, so the budget is smaller. */
const XATTR_SPACE = 64 << 20;

export interface TmpfsOptions {
  /** First inode number (the overlay starts its upper's high, away from host numbers). */
  firstIno?: number;
  /** Root directory permissions (default 01777, as a fresh tmpfs mount). */
  rootMode?: number;
  rootUid?: number;
  rootGid?: number;
  /** A mount's parameters (mount(2)); without them the instance is the kernel's own, as
   *  shm_mnt: no limits, nothing shown. */
  params?: TmpfsParams;
}

export class TmpfsFS extends FileSystem {
  readonly type: string = 'tmpfs';
  readonly root: TmpfsDir;
  private nextIno: number;
  /** The mount's parameters; null for an internal instance. */
  params: TmpfsParams | null;
  usedBlocks = 0;
  usedInodes = 0;
  /** f_fsid from the super block's random uuid (shmem_statfs, uuid_to_fsid), one per instance. */
  // Not node:crypto: a run must not load it (start-up); an fsid needs no secrecy.
  private readonly uuidFsid: [number, number] = [1 + Math.floor(Math.random() * (2 ** 32 - 1)), 1 + Math.floor(Math.random() * (2 ** 32 - 1))];
  readonly xattrSpace = new XattrSpace(XATTR_SPACE);
  /** shmem's xattr handlers (devpts, made of the same inodes, has none). */
  readonly keepsXattrs: boolean = true;

  constructor(readonly mf: NativeMemoryFile, opts: TmpfsOptions = {}) {
    super();
    this.nextIno = opts.firstIno ?? 1;
    this.params = opts.params ?? null;
    const p = this.params;
    this.root = new TmpfsDir(this, S_IFDIR | (p?.mode ?? opts.rootMode ?? 0o1777), p?.uid ?? opts.rootUid ?? 0,
      p?.gid ?? opts.rootGid ?? 0, null);
  }

  allocIno(): number { return this.nextIno++; }

  /** shmem_inode_acct_blocks: n more pages, or ENOSPC with none taken. */
  chargeBlocks(n: number): void {
    if (!this.hasRoomFor(n)) fail(ENOSPC);
    this.usedBlocks += n;
  }

  /** Whether n more pages fit the mount's size. */
  hasRoomFor(n: number): boolean {
    const max = this.params?.maxBlocks ?? 0;
    return max === 0 || this.usedBlocks + n <= max;
  }

  unchargeBlocks(n: number): void { this.usedBlocks -= n; }

  /** shmem_reserve_inode: a new inode or hard link, or ENOSPC. */
  reserveInode(): void {
    const max = this.params?.maxInodes ?? 0;
    if (max > 0 && this.usedInodes >= max) fail(ENOSPC);
    this.usedInodes++;
  }

  freeInode(): void { this.usedInodes--; }

  statfs(): Statfs {
    const p = this.params;
    let blocks: number, bfree: number, files: number, ffree: number;
    if (p === null) {
      // An internal instance (the overlay's upper, /dev/shm before this had limits): the
      // sandbox's memory stands for the size.
      const pages = Math.floor(this.mf.allocatedBytes() / 4096);
      blocks = 1 << 20; bfree = Math.max(0, blocks - pages); files = 1 << 20; ffree = files - this.usedInodes;
    } else {
      blocks = p.maxBlocks; bfree = p.maxBlocks > 0 ? Math.max(0, p.maxBlocks - this.usedBlocks) : 0;
      files = p.maxInodes; ffree = p.maxInodes > 0 ? Math.max(0, p.maxInodes - this.usedInodes) : 0;
    }
    return {
      type: TMPFS_MAGIC, bsize: 4096, blocks, bfree, bavail: bfree, files, ffree, fsid: [0, 0], namelen: 255,
      frsize: 4096, flags: 0,
    };
  }

  /** shmem_reconfigure (a remount's options): limits may not appear where there were none
   *  nor fall below what is in use, noswap cannot come (and stays); mode, uid and gid are the
   *  root's from the first mount and stay. All checked before any applies. */
  reconfigure(given: TmpfsGiven): void {
    const p = this.params;
    if (p === null) return;
    if (given.maxBlocks !== undefined && given.maxBlocks > 0 && (p.maxBlocks === 0 || this.usedBlocks > given.maxBlocks)) fail(EINVAL);
    if (given.maxInodes !== undefined && given.maxInodes > 0 && (p.maxInodes === 0 || this.usedInodes > given.maxInodes)) fail(EINVAL);
    if (given.noswap === true && !p.noswap) fail(EINVAL); // "Cannot disable swap on remount"
    if (given.maxBlocks !== undefined) p.maxBlocks = given.maxBlocks;
    if (given.maxInodes !== undefined) p.maxInodes = given.maxInodes;
    if (given.huge !== undefined) p.huge = given.huge;
    if (given.inode64 !== undefined) p.inode64 = given.inode64;
    if (given.mpol !== undefined) p.mpol = given.mpol;
  }

  override get fsid(): [number, number] { return this.uuidFsid; }

  override mountOptions(): string { return this.params === null ? '' : showTmpfsOptions(this.params); }
}
