// File status ABI (include/uapi/linux/stat.h, arch/x86/include/uapi/asm/stat.h): mode bits,
// the plain-object Stat every file description reports, and its two wire forms: x86-64
// struct stat (144 bytes, fstat/newfstatat) and struct statx (256 bytes).

export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

export interface Timespec { sec: number; nsec: number }

/** What stat(2) reports about a file. dev/rdev use the glibc dev_t encoding (makedev). */
export interface Stat {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  /** 512-byte blocks allocated. */
  blocks: number;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
  /** Creation time, when the file system knows it (statx STATX_BTIME). */
  btime?: Timespec;
}

export const STAT_SIZE = 144;
export const STATX_SIZE = 256;

export const STATX_TYPE = 0x1;
export const STATX_MODE = 0x2;
export const STATX_NLINK = 0x4;
export const STATX_UID = 0x8;
export const STATX_GID = 0x10;
export const STATX_ATIME = 0x20;
export const STATX_MTIME = 0x40;
export const STATX_CTIME = 0x80;
export const STATX_INO = 0x100;
export const STATX_SIZE_BIT = 0x200;
export const STATX_BLOCKS = 0x400;
export const STATX_BASIC_STATS = 0x7ff;
export const STATX_BTIME = 0x800;
export const STATX_MNT_ID = 0x1000;
export const STATX__RESERVED = 0x80000000;
export const STATX_ATTR_AUTOMOUNT = 0x1000;
export const STATX_ATTR_MOUNT_ROOT = 0x2000;
export const STATX_ATTR_DAX = 0x200000;

const TWO32 = 2 ** 32;

/** glibc major(): dev_t keeps the major in bits 8-19 and 32-43. Plain number arithmetic (no
 *  BigInt): it runs on every stat. */
export function devMajor(dev: number): number {
  const lo = dev >>> 0, hi = Math.floor(dev / TWO32) >>> 0;
  return (((lo >>> 8) & 0xfff) | (hi & 0xfffff000)) >>> 0;
}

/** glibc minor(): bits 0-7 and 20-43 (the low 32 bits of dev >> 12, above its first 8). */
export function devMinor(dev: number): number {
  const lo = dev >>> 0, hi = Math.floor(dev / TWO32) >>> 0;
  return ((lo & 0xff) | (((lo >>> 12) | (hi << 20)) & 0xffffff00)) >>> 0;
}

export function makeDev(major: number, minor: number): number {
  const ma = BigInt(major), mi = BigInt(minor);
  return Number(((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n));
}

/** x as a 64-bit two's-complement integer (u64 and i64 alike: what BigInt.asUintN(64) of it
 *  would be, for the integers a double holds), without a BigInt. */
function put64(v: DataView, off: number, x: number): void {
  const n = Math.trunc(x) || 0;
  v.setUint32(off, n >>> 0, true);
  v.setUint32(off + 4, Math.floor(n / TWO32) >>> 0, true);
}

// One buffer each, reused: every stat encodes into it and the caller copies it out at once.
const statBuf = new Uint8Array(STAT_SIZE);
const statView = new DataView(statBuf.buffer);
const statxBuf = new Uint8Array(STATX_SIZE);
const statxView = new DataView(statxBuf.buffer);

/** x86-64 struct stat, in a buffer the next call reuses (copy it out before encoding again). */
export function encodeStat(s: Stat): Uint8Array {
  const v = statView;
  put64(v, 0, s.dev);
  put64(v, 8, s.ino);
  put64(v, 16, s.nlink);
  v.setUint32(24, s.mode >>> 0, true);
  v.setUint32(28, s.uid >>> 0, true);
  v.setUint32(32, s.gid >>> 0, true);
  v.setUint32(36, 0, true);
  put64(v, 40, s.rdev);
  put64(v, 48, s.size);
  put64(v, 56, s.blksize);
  put64(v, 64, s.blocks);
  put64(v, 72, s.atime.sec); put64(v, 80, s.atime.nsec);
  put64(v, 88, s.mtime.sec); put64(v, 96, s.mtime.nsec);
  put64(v, 104, s.ctime.sec); put64(v, 112, s.ctime.nsec);
  return statBuf;
}

function statxTimestamp(v: DataView, off: number, t: Timespec): void {
  put64(v, off, t.sec);
  v.setUint32(off + 8, t.nsec >>> 0, true);
}

/** struct statx, in a buffer the next call reuses (as encodeStat). Linux fills every basic
 *  field whatever `mask` asked for, and says so in stx_mask; btime only when the file system
 *  has it. */
export function encodeStatx(s: Stat, mntId: number, mountRoot: boolean): Uint8Array {
  const b = statxBuf;
  const v = statxView;
  b.fill(0);
  v.setUint32(0, STATX_BASIC_STATS | (s.btime ? STATX_BTIME : 0) | STATX_MNT_ID, true);
  v.setUint32(4, s.blksize >>> 0, true);
  put64(v, 8, mountRoot ? STATX_ATTR_MOUNT_ROOT : 0);
  // The attributes the VFS always knows about (vfs_getattr_nosec, vfs_statx).
  put64(v, 56, STATX_ATTR_AUTOMOUNT | STATX_ATTR_MOUNT_ROOT | STATX_ATTR_DAX);
  v.setUint32(16, s.nlink >>> 0, true);
  v.setUint32(20, s.uid >>> 0, true);
  v.setUint32(24, s.gid >>> 0, true);
  v.setUint16(28, s.mode & 0xffff, true);
  put64(v, 32, s.ino);
  put64(v, 40, s.size);
  put64(v, 48, s.blocks);
  statxTimestamp(v, 64, s.atime);
  if (s.btime) statxTimestamp(v, 80, s.btime);
  statxTimestamp(v, 96, s.ctime);
  statxTimestamp(v, 112, s.mtime);
  v.setUint32(128, devMajor(s.rdev), true);
  v.setUint32(132, devMinor(s.rdev), true);
  v.setUint32(136, devMajor(s.dev), true);
  v.setUint32(140, devMinor(s.dev), true);
  put64(v, 144, mntId);
  return b;
}
