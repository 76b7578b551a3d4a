// Permission checks (Linux generic_permission and may_open): the mode bits against the
// caller's fsuid/fsgid and groups. fsuid 0 stands for CAP_DAC_OVERRIDE (the sandbox keeps
// no separate capability sets yet): read and write anything, execute anything with an x bit
// and search every directory.

import type { Credentials } from '../kernel/credentials';
import { SyscallError } from '../kernel/syscall_error';
import { EACCES, EPERM } from '../abi/linux/errno';
import type { Inode } from './inode';

export const MAY_EXEC = 1;
export const MAY_WRITE = 2;
export const MAY_READ = 4;

export function inGroup(creds: Credentials, gid: number): boolean {
  return creds.fsgid === gid || creds.groups.includes(gid);
}

/** Would `creds` be allowed `want` (MAY_* bits) on a file with this mode/uid/gid? */
export function mayAccess(creds: Credentials, mode: number, uid: number, gid: number, isDir: boolean, want: number): boolean {
  if (creds.fsuid === 0) {
    if ((want & MAY_EXEC) === 0 || isDir) return true;
    return (mode & 0o111) !== 0;
  }
  let bits: number;
  if (creds.fsuid === uid) bits = (mode >> 6) & 7;
  else if (inGroup(creds, gid)) bits = (mode >> 3) & 7;
  else bits = mode & 7;
  return (bits & want) === want;
}

/** EACCES unless `creds` may do `want` to inode. */
export function checkPermission(creds: Credentials, inode: Inode, want: number): void {
  if (!mayAccess(creds, inode.mode, inode.uid, inode.gid, inode.isDir, want)) throw new SyscallError(EACCES);
}

/** Only the owner (or root) may chmod, utime to arbitrary times, set O_NOATIME... (Linux
 *  inode_owner_or_capable). */
export function checkOwner(creds: Credentials, inode: Inode): void {
  if (creds.fsuid !== 0 && creds.fsuid !== inode.uid) throw new SyscallError(EPERM);
}

/** The sticky bit on a directory: only the owner of the file or of the directory (or root)
 *  may remove or rename it (Linux check_sticky). */
export function checkSticky(creds: Credentials, dir: Inode, child: Inode): void {
  if ((dir.mode & 0o1000) === 0 || creds.fsuid === 0) return;
  if (creds.fsuid === child.uid || creds.fsuid === dir.uid) return;
  throw new SyscallError(EPERM);
}
