// Copy-up (Linux ovl_copy_up): before anything changes a file that exists only in the lower
// layer, its parents and then the file itself are recreated in the upper layer, with the
// same type, permissions, owner, times, the extended attributes the lower layer shares and
// (for regular files, unless it is about to be truncated) contents. The copy then shows the lower file's inode number.

import { takeOpenWait } from '../../vfs/open_wait';
import { withoutHostWait } from '../../vfs/host_wait';
import { Credentials } from '../../kernel/credentials';
import { SyscallError } from '../../kernel/syscall_error';
import { EACCES, ENODATA, ENOTSUP as EOPNOTSUPP, EPERM } from '../../abi/linux/errno';
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from '../../abi/linux/stat';
import type { TmpfsDir } from '../tmpfs/dir';
import type { TmpfsInode } from '../tmpfs/inode';
import type { TmpfsRegular } from '../tmpfs/regular';
import type { OverlayNode } from './node';

const CHUNK = 1 << 20;
/** What a lower layer answers for attributes it cannot show. */
const SKIPPED = new Set([EOPNOTSUPP, EACCES, EPERM]);

export function copyUp(node: OverlayNode, withData = true): TmpfsInode {
  if (node.upper) return node.upper;
  // Its lookups of the lower layer are not left half way (host_wait.ts): a retry would find
  // the upper file made already.
  return withoutHostWait(() => copyUpNow(node, withData));
}

function copyUpNow(node: OverlayNode, withData: boolean): TmpfsInode {
  takeOpenWait(); // its read of the lower file waits synchronously (open_wait.ts)
  const lower = node.lower!;
  const parent = node.parent!;
  const dir = copyUp(parent) as TmpfsDir;
  const fs = node.fs;
  const attr = fs.lower.getattr(lower);
  const owner = new Credentials(attr.uid, attr.gid);
  let upper: TmpfsInode;
  switch (attr.mode & S_IFMT) {
    case S_IFDIR:
      upper = dir.mkdir(node.name, attr.mode, owner);
      break;
    case S_IFREG:
      upper = dir.create(node.name, attr.mode, owner);
      if (withData && attr.size > 0) copyData(node, upper as TmpfsRegular);
      break;
    case S_IFLNK:
      upper = dir.symlink(node.name, fs.lower.readlink(lower), owner);
      break;
    default:
      upper = dir.mknod(node.name, attr.mode, attr.rdev, owner);
  }
  upper.setattr({ mode: attr.mode, uid: attr.uid, gid: attr.gid, atime: attr.atime, mtime: attr.mtime });
  // After the owner is set: a chown drops a file capability.
  copyXattrs(node, upper);
  fs.setOrigin(upper, attr.ino);
  node.upper = upper;
  return upper;
}

/** ovl_copy_xattr: the attributes the lower layer shares go up with the file. One the
 *  layer will not show (it cannot open the host file to read them) is left behind. */
function copyXattrs(node: OverlayNode, to: TmpfsInode): void {
  const lower = node.fs.lower;
  let names: string[];
  try { names = lower.listxattr?.(node.lower!) ?? []; } catch (e) {
    if (e instanceof SyscallError && SKIPPED.has(e.errno)) return;
    throw e;
  }
  for (const name of names) {
    let value: Uint8Array;
    try { value = lower.getxattr!(node.lower!, name); } catch (e) {
      if (e instanceof SyscallError && (SKIPPED.has(e.errno) || e.errno === ENODATA)) continue;
      throw e;
    }
    to.setxattr(name, value, 0);
  }
}

function copyData(node: OverlayNode, to: TmpfsRegular): void {
  const host = node.fs.lower.open(node.lower!);
  try {
    const buf = new Uint8Array(CHUNK);
    for (let off = 0; ; off += CHUNK) {
      const n = host.pread(buf, off);
      if (n > 0) to.write(buf.subarray(0, n), off);
      if (n < CHUNK) break;
    }
  } finally {
    host.release();
  }
}
