// Whether a donated host fd is on a file system whose calls may block without bound (FUSE,
// NFS, CIFS, 9p...: a daemon or a server decides when they end), by its fstatfs magic. Reads
// and writes of such an fd run off the sentry's thread (HostFd.preadAsync); local disk and
// memory file systems answer in bounded time and keep the direct path. The gofer decides the
// same way which requests go to its worker threads (crates/gofer/src/wire.rs, LOCAL_FS).

import { addon } from '../../native/addon';

const LOCAL_FS = new Set<number>([
  0xef53, // ext2/3/4
  0x58465342, // xfs
  0x9123683e, // btrfs
  0x01021994, // tmpfs
  0x858458f6, // ramfs
  0x958458f6, // hugetlbfs
  0x794c7630, // overlayfs
  0xf2f52010, // f2fs
  0x73717368, // squashfs
  0xe0f5e1e2, // erofs
  0x2fc12fc1, // zfs
  0xca451a4e, // bcachefs
  0x4d44, // vfat, msdos
  0x2011bab0, // exfat
  0x9660, // iso9660
  0x52654973, // reiserfs
  0x3153464a, // jfs
  0x3434, // nilfs2
  0x482b, // hfsplus
  0x15013346, // udf
  0x5346544e, // ntfs, ntfs3
  0xf15f, // ecryptfs
]);

/** Whether calls on host fd may block without bound; true when its type cannot be read. */
export function hostFdMayBlock(fd: number): boolean {
  const type = addon().hostFstatfsType(fd);
  return type < 0 || !LOCAL_FS.has(type);
}
