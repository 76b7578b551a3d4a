// st_ino for a 9P qid path. The gofer marks the files of a file system mounted below a tree's
// root with a device number in the path's top byte (crates/gofer/src/wire.rs qid_path), and a
// JS number holds 53 bits: Number(path) rounded every such file of one submount to the same
// st_ino (find then reported a file-system loop, tar and du saw hard links). Linux's v9fs takes
// the path whole; here the device moves down to bits 45-52, below which host inode numbers
// (short of 2^45) fit as they are, and a path that does not fit is folded to 53 bits.

const INO_BITS = 45n;
const DEV_SHIFT = 56n;

export function inoOfQidPath(path: bigint): number {
  const dev = path >> DEV_SHIFT, ino = path & ((1n << DEV_SHIFT) - 1n);
  if (ino < 1n << INO_BITS) return Number((dev << INO_BITS) | ino);
  return Number(BigInt.asUintN(53, path ^ (path >> 53n)));
}
