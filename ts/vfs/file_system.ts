// FileSystem: one mounted file system instance (Linux super_block, gVisor vfs.Filesystem): its
// type name for /proc/mounts, its device number, statfs, and whether the VFS may cache its
// dentries. File systems whose names come and go behind the VFS's back (proc: tasks exit)
// set cacheDentries false, and every lookup asks their directory inodes afresh.

import type { Statfs } from '../abi/linux/fs';
import { makeDev } from '../abi/linux/stat';

let nextAnonMinor = 1;

/** A fresh device number on the anonymous major 0, as Linux gives tmpfs, proc and overlay. */
export function anonDev(): number {
  return makeDev(0, nextAnonMinor++);
}

/** u64_to_fsid(huge_encode_dev(dev)). */
export function devFsid(dev: number): [number, number] {
  return [dev % 2 ** 32, Math.floor(dev / 2 ** 32)];
}

export abstract class FileSystem {
  /** Device number every inode of this file system reports (st_dev). */
  readonly dev = anonDev();

  /** statfs's f_fsid where the file system's statfs names none: simple_statfs's, the device
   *  number (huge_encode_dev) as two words, low first. */
  get fsid(): [number, number] { return devFsid(this.dev); }

  /** Type name as /proc/mounts and /proc/filesystems show it (tmpfs, proc, overlay...). */
  abstract readonly type: string;

  /** The host's files (the root, the volumes): natively these are usually one file system,
   *  so copy_file_range between two of them is not refused here (the host's copy decides). */
  readonly hostBacked: boolean = false;

  /** False when names can change without the VFS seeing it: no dentry is kept. */
  readonly cacheDentries: boolean = true;

  /** True when an unused dentry may leave the cache (dentry_cache.ts): its inode is made
   *  again, the same file, by the next lookup (the gofer's trees, the overlay over one). Not
   *  for file systems whose dentries are their files (tmpfs). */
  readonly evictDentries: boolean = false;

  abstract statfs(): Statfs;

  /** Mount source shown in /proc/mounts (the first field). */
  get source(): string { return this.type; }

  /** Extra mount options for /proc/mounts, after rw/ro. */
  mountOptions(): string { return ''; }
}
