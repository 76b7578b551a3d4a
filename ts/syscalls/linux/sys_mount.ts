// mount(2) (Linux fs/namespace.c path_mount), the part that changes a mount's propagation type
// (MS_PRIVATE, MS_SLAVE, with MS_REC): what `unshare -m`, bwrap and container tools do first in
// a new mount namespace. Every mount of the sandbox is private already (kernel/ns/mnt_ns.ts:
// nothing propagates between namespaces), and a slave of no master is private, so these
// change nothing. Not done: new mounts, bind mounts, remounts, moves, and the MS_SHARED and
// MS_UNBINDABLE types: those are ENOSYS, as before this handler existed (the sandbox's
// mounts are made at start-up only).

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, ENOSYS, EPERM } from '../../abi/linux/errno';
import { AT_FDCWD } from '../../abi/linux/fcntl';
import { SYS_mount } from '../../abi/linux/syscall_numbers';
import { CAP_SYS_ADMIN } from '../../kernel/capabilities';
import { nsproxyOf } from '../../kernel/ns/nsproxy';
import { locateVd } from '../../vfs/lookup';
import { copyInPath } from './path';
import type { SyscallArgs, SyscallTable } from './types';

const MS_REMOUNT = 0x20, MS_BIND = 0x1000, MS_MOVE = 0x2000, MS_REC = 0x4000, MS_SILENT = 0x8000,
  MS_UNBINDABLE = 0x20000, MS_PRIVATE = 0x40000, MS_SLAVE = 0x80000, MS_SHARED = 0x100000, MS_NOUSER = 0x80000000;
const MS_MGC_MSK = 0xffff0000, MS_MGC_VAL = 0xc0ed0000;
const PAGE_SIZE = 4096;
const PROPAGATION = MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE;

function sysMount(t: Task, a: SyscallArgs): number {
  // copy_mount_string: the source and type, when given (EFAULT if unreadable).
  if (a.ptr(0) !== 0) t.mm.readCString(a.ptr(0), PAGE_SIZE);
  const target = copyInPath(t, a.ptr(1));
  const fstype = a.ptr(2) !== 0 ? t.mm.readCString(a.ptr(2), PAGE_SIZE) : null;
  let flags = a.uint(3);
  const vd = locateVd(t, AT_FDCWD, target, true);
  if ((flags & MS_MGC_MSK) >>> 0 === MS_MGC_VAL) flags = (flags & ~MS_MGC_MSK) >>> 0;
  if ((flags & MS_NOUSER) !== 0) fail(EINVAL);
  // may_mount: CAP_SYS_ADMIN over the mount namespace's owner.
  if (!t.creds.nsCapable(nsproxyOf(t).mnt.userNs, CAP_SYS_ADMIN)) fail(EPERM);
  if ((flags & (MS_REMOUNT | MS_BIND)) !== 0) fail(ENOSYS);
  if ((flags & PROPAGATION) === 0) {
    // do_new_mount wants a file system type before anything else.
    if ((flags & MS_MOVE) === 0 && fstype === null) fail(EINVAL);
    fail(ENOSYS);
  }
  // do_change_type: at the root of a mount, one type alone (besides MS_REC and MS_SILENT).
  if (vd.dentry !== vd.mount.root) fail(EINVAL);
  const type = flags & ~(MS_REC | MS_SILENT);
  if (type === 0 || (type & (type - 1)) !== 0) fail(EINVAL);
  if (type === MS_SHARED || type === MS_UNBINDABLE) fail(ENOSYS);
  return 0;
}

export function registerMount(table: SyscallTable): void {
  table[SYS_mount] = { name: 'mount', handler: sysMount, args: ['str', 'path', 'str', 'hex', 'ptr'] };
}
