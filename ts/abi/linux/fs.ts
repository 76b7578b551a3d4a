// File-system ABI the VFS syscalls need beyond fcntl.h and stat.h (linux/dirent.h, statfs.h,
// fs.h, unistd.h, falloc.h): directory entry types, struct statfs, rename/unlink/access flags,
// utimensat's special nanoseconds and the magic numbers statfs reports.

/** d_type values (DT_*): the S_IFMT type shifted down by 12. */
export const DT_UNKNOWN = 0;
export const DT_FIFO = 1;
export const DT_CHR = 2;
export const DT_DIR = 4;
export const DT_BLK = 6;
export const DT_REG = 8;
export const DT_LNK = 10;
export const DT_SOCK = 12;

export function dtypeOfMode(mode: number): number {
  return (mode >> 12) & 0o17;
}

export const NAME_MAX = 255;
/** Symlinks followed in one lookup before ELOOP (Linux MAXSYMLINKS). */
export const MAXSYMLINKS = 40;

export const RENAME_NOREPLACE = 1 << 0;
export const RENAME_EXCHANGE = 1 << 1;
export const RENAME_WHITEOUT = 1 << 2;

export const F_OK = 0;
export const X_OK = 1;
export const W_OK = 2;
export const R_OK = 4;

export const UTIME_NOW = (1 << 30) - 1;
export const UTIME_OMIT = (1 << 30) - 2;

export const FALLOC_FL_KEEP_SIZE = 0x01;
export const FALLOC_FL_PUNCH_HOLE = 0x02;
export const FALLOC_FL_COLLAPSE_RANGE = 0x08;
export const FALLOC_FL_ZERO_RANGE = 0x10;
export const FALLOC_FL_INSERT_RANGE = 0x20;
export const FALLOC_FL_UNSHARE_RANGE = 0x40;
export const FALLOC_FL_WRITE_ZEROES = 0x80;

/** openat2's struct open_how resolve flags. */
export const RESOLVE_NO_XDEV = 0x01;
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
export const RESOLVE_IN_ROOT = 0x10;
export const RESOLVE_CACHED = 0x20;

/** statfs f_type magic numbers. */
export const TMPFS_MAGIC = 0x01021994;
export const PROC_SUPER_MAGIC = 0x9fa0;
export const SYSFS_MAGIC = 0x62656572;
export const OVERLAYFS_SUPER_MAGIC = 0x794c7630;
export const DEVPTS_SUPER_MAGIC = 0x1cd1;
export const CGROUP2_SUPER_MAGIC = 0x63677270;

/** statfs f_flags (ST_*). */
export const ST_RDONLY = 0x0001;
export const ST_NOSUID = 0x0002;
export const ST_NODEV = 0x0004;
export const ST_NOEXEC = 0x0008;
/** Set in every statfs answer: the flags are valid (glibc's statvfs takes them then). */
export const ST_VALID = 0x0020;
export const ST_NOATIME = 0x0400;
export const ST_NODIRATIME = 0x0800;
export const ST_RELATIME = 0x1000;
export const ST_NOSYMFOLLOW = 0x2000;

export interface Statfs {
  type: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  fsid: [number, number];
  namelen: number;
  frsize: number;
  flags: number;
}

export const STATFS_SIZE = 120;

/** x86-64 struct statfs. */
export function encodeStatfs(s: Statfs): Uint8Array {
  const b = new Uint8Array(STATFS_SIZE);
  const v = new DataView(b.buffer);
  const put = (off: number, x: number): void => v.setBigInt64(off, BigInt(Math.trunc(x)), true);
  put(0, s.type);
  put(8, s.bsize);
  put(16, s.blocks);
  put(24, s.bfree);
  put(32, s.bavail);
  put(40, s.files);
  put(48, s.ffree);
  v.setInt32(56, s.fsid[0] | 0, true);
  v.setInt32(60, s.fsid[1] | 0, true);
  put(64, s.namelen);
  put(72, s.frsize);
  put(80, s.flags);
  return b;
}
