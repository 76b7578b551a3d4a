// Permission checks (Linux generic_permission, inode_owner_or_capable, check_sticky): the
// mode bits against the caller's fsuid/fsgid and groups, then the capabilities that
// override them: CAP_DAC_OVERRIDE (read and write anything, execute anything with an x
// bit, search every directory), CAP_DAC_READ_SEARCH (read anything, search directories)
// and CAP_FOWNER (act as the owner). In a user namespace below the initial one they count
// only on files whose owner and group the namespace maps (capable_wrt_inode_uidgid).

import type { Credentials } from '../kernel/credentials';
import { SyscallError } from '../kernel/syscall_error';
import { EACCES, EPERM } from '../abi/linux/errno';
import type { Inode } from './inode';

/** FS_IMMUTABLE_FL (inode_flags.ts, which builds on this file). */
const FS_IMMUTABLE_FL = 0x10;
import { CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER } from '../kernel/capabilities';
import { INIT_USER_NS, kgidHasMapping, kuidHasMapping } from '../kernel/ns/user_namespace';

export const MAY_EXEC = 1;
export const MAY_WRITE = 2;
export const MAY_READ = 4;

/** capable_wrt_inode_uidgid: cap in the caller's user namespace, which maps the file's ids. */
export function capableWrtInode(creds: Credentials, cap: number, uid: number, gid: number): boolean {
  const ns = creds.userNs;
  if (ns === INIT_USER_NS) return creds.hasCapability(cap);
  return creds.nsCapable(ns, cap) && kuidHasMapping(ns, uid) && kgidHasMapping(ns, gid);
}

export function inGroup(creds: Credentials, gid: number): boolean {
  return creds.inGroup(gid);
}

/** Would `creds` be allowed `want` (MAY_* bits) on a file with this mode/uid/gid? */
export function mayAccess(creds: Credentials, mode: number, uid: number, gid: number, isDir: boolean, want: number): boolean {
  want &= MAY_READ | MAY_WRITE | MAY_EXEC;
  let bits: number;
  if (creds.fsuid === uid) bits = (mode >> 6) & 7;
  else if (creds.inGroup(gid)) bits = (mode >> 3) & 7;
  else bits = mode & 7;
  if ((bits & want) === want) return true;
  const capable = (cap: number): boolean => capableWrtInode(creds, cap, uid, gid);
  if (isDir) {
    if ((want & MAY_WRITE) === 0 && capable(CAP_DAC_READ_SEARCH)) return true;
    return capable(CAP_DAC_OVERRIDE);
  }
  if (((want & MAY_EXEC) === 0 || (mode & 0o111) !== 0) && capable(CAP_DAC_OVERRIDE)) return true;
  return want === MAY_READ && capable(CAP_DAC_READ_SEARCH);
}

/** EACCES unless `creds` may do `want` to inode. */
export function checkPermission(creds: Credentials, inode: Inode, want: number): void {
  // inode_permission: nothing may write to an immutable file, root included.
  if ((want & MAY_WRITE) !== 0 && (inode.fsFlags & FS_IMMUTABLE_FL) !== 0) throw new SyscallError(EPERM);
  if (!mayAccess(creds, inode.mode, inode.uid, inode.gid, inode.isDir, want) && !inode.permitsBeyondMode()) {
    throw new SyscallError(EACCES);
  }
}

/** inode_owner_or_capable: the owner, or CAP_FOWNER. */
export function isOwnerOrCapable(creds: Credentials, uid: number): boolean {
  // (inode_owner_or_capable asks only that the owner be mapped, not the group.)
  if (creds.fsuid === uid) return true;
  const ns = creds.userNs;
  return ns === INIT_USER_NS ? creds.hasCapability(CAP_FOWNER) : creds.nsCapable(ns, CAP_FOWNER) && kuidHasMapping(ns, uid);
}

/** Only the owner (or CAP_FOWNER) may chmod, utime to arbitrary times, set O_NOATIME... */
export function checkOwner(creds: Credentials, inode: Inode): void {
  if (!isOwnerOrCapable(creds, inode.uid)) throw new SyscallError(EPERM);
}

/** The sticky bit on a directory: only the owner of the file or of the directory (or
 *  CAP_FOWNER) may remove or rename it (Linux check_sticky). */
export function checkSticky(creds: Credentials, dir: Inode, child: Inode): void {
  if ((dir.mode & 0o1000) === 0) return;
  if (creds.fsuid === dir.uid || isOwnerOrCapable(creds, child.uid)) return;
  throw new SyscallError(EPERM);
}
