// getcwd, umask, chdir, fchdir, chroot: the task's file-system context (Linux fs_struct,
// gVisor FSContext).

import { CAP_SYS_CHROOT } from '../../kernel/capabilities';
import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { ENOENT, ENOTDIR, EPERM, ERANGE } from '../../abi/linux/errno';
import { AT_FDCWD } from '../../abi/linux/fcntl';
import { SYS_chdir, SYS_chroot, SYS_fchdir, SYS_getcwd, SYS_umask } from '../../abi/linux/syscall_numbers';
import { locateDirVd, locateVd } from '../../vfs/lookup';
import { MAY_EXEC, checkPermission } from '../../vfs/permission';
import { cwdOf, knownCwd, setCwd, taskRoot } from '../../vfs/task_fs';
import { VfsFile } from '../../vfs/vfs_file';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import type { SyscallArgs, SyscallTable } from './types';
import { getFile } from './fd_util';
import { copyInPath } from './path';
import { stringBytesZ } from '../../abi/byte_string';

/** Returns the length including the NUL (the raw syscall does; glibc turns it into buf).
 *  A working directory that has been removed is ENOENT. */
function sysGetcwd(t: Task, a: SyscallArgs): number {
  const vd = knownCwd(t);
  if (vd?.dentry.deleted) fail(ENOENT);
  // A working directory outside the root (a chroot without a chdir) is "(unreachable)/...".
  const cwd = vd ? `${vd.reachableFrom(taskRoot(t)) ? '' : '(unreachable)'}${vd.path(taskRoot(t))}` : t.fs.cwd;
  const bytes = stringBytesZ(cwd);
  if (bytes.length > a.size(1)) fail(ERANGE);
  t.mm.copyOut(a.ptr(0), bytes);
  return bytes.length;
}

function sysUmask(t: Task, a: SyscallArgs): number {
  const old = t.fs.umask;
  t.fs.umask = a.uint(0) & 0o777;
  return old;
}

function enter(t: Task, vd: VirtualDentry): number {
  if (!vd.inode.isDir) fail(ENOTDIR);
  checkPermission(t.creds, vd.inode, MAY_EXEC);
  setCwd(t, vd);
  return 0;
}

function sysChdir(t: Task, a: SyscallArgs): number {
  return enter(t, locateVd(t, AT_FDCWD, copyInPath(t, a.ptr(0)), true));
}

function sysFchdir(t: Task, a: SyscallArgs): number {
  const f = getFile(t, a.int(0));
  if (!(f instanceof VfsFile)) fail(ENOTDIR);
  if (!f.vd.inode.isDir) fail(ENOTDIR);
  return enter(t, f.vd);
}

/** chroot: the directory (search permission on it) becomes the root of the tasks sharing this
 *  FSContext; CAP_SYS_CHROOT is needed. */
function sysChroot(t: Task, a: SyscallArgs): number {
  const vd = locateDirVd(t, AT_FDCWD, copyInPath(t, a.ptr(0)));
  checkPermission(t.creds, vd.inode, MAY_EXEC);
  if (!t.creds.nsCapable(t.creds.userNs, CAP_SYS_CHROOT)) fail(EPERM);
  // The working directory stays where it is (resolved now, from the old root, if it was
  // only known by name): outside the new root, getcwd calls it "(unreachable)".
  cwdOf(t);
  // set_fs_root: shared by the tasks sharing this FSContext (CLONE_FS).
  t.fs.root = vd;
  return 0;
}

export function registerFSContext(table: SyscallTable): void {
  table[SYS_getcwd] = { name: 'getcwd', handler: sysGetcwd, args: ['outbuf', 'size'] };
  table[SYS_umask] = { name: 'umask', handler: sysUmask, args: ['mode'] };
  table[SYS_chdir] = { name: 'chdir', handler: sysChdir, args: ['path'] };
  table[SYS_fchdir] = { name: 'fchdir', handler: sysFchdir, args: ['fd'] };
  table[SYS_chroot] = { name: 'chroot', handler: sysChroot, args: ['path'] };
}

