// pivot_root(2) (Linux fs/namespace.c): the caller's mount namespace gets new_root's mount as
// its root, and the old root is mounted on put_old. Checks and errnos in Linux's order; every
// task whose root or working directory was the old root moves to the new one
// (chroot_fs_refs). The sandbox's namespace root stands for Linux's root mounted on rootfs,
// so it counts as attached; a chroot onto a mount root pivots there.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EBUSY, EINVAL, ENOENT, EPERM } from '../../abi/linux/errno';
import { CAP_SYS_ADMIN } from '../../kernel/capabilities';
import { landlockDenyMount } from '../../kernel/landlock/domain';
import { SYS_pivot_root } from '../../abi/linux/syscall_numbers';
import { AT_FDCWD } from '../../abi/linux/fcntl';
import type { SyscallArgs, SyscallTable } from './types';
import { copyInPath } from './path';
import { locateDirVd } from '../../vfs/lookup';
import { moveFsRefs, resolveContext, taskRoot } from '../../vfs/task_fs';
import { nsproxyOf } from '../../kernel/ns/nsproxy';
import { VirtualDentry } from '../../vfs/virtual_dentry';

function sysPivotRoot(t: Task, a: SyscallArgs): number {
  if (!t.creds.nsCapable(nsproxyOf(t).mnt.userNs, CAP_SYS_ADMIN)) fail(EPERM); // may_mount
  landlockDenyMount(t.creds); // security_sb_pivotroot
  const nu = locateDirVd(t, AT_FDCWD, copyInPath(t, a.ptr(0)));
  const old = locateDirVd(t, AT_FDCWD, copyInPath(t, a.ptr(1)));
  const root = taskRoot(t);
  const ns = resolveContext(t).ns;
  const newMnt = nu.mount, rootMnt = root.mount, oldMnt = old.mount;
  if (oldMnt.propagation === 'shared' || newMnt.parent?.propagation === 'shared' ||
    rootMnt.parent?.propagation === 'shared') fail(EINVAL);
  if (nu.dentry.deleted) fail(ENOENT);
  if (newMnt === rootMnt || oldMnt === rootMnt) fail(EBUSY); // the same file system: a loop
  if (root.dentry !== rootMnt.root) fail(EINVAL); // the root is no mount point (a chroot)
  if (rootMnt !== ns.root && rootMnt.parent === null) fail(EINVAL); // not attached
  if (nu.dentry !== newMnt.root || newMnt.parent === null) fail(EINVAL);
  if (!old.reachableFrom(nu)) fail(EINVAL); // put_old must be at or below new_root
  if (!nu.reachableFrom(root)) fail(EINVAL); // and new_root below the root
  const from = new VirtualDentry(rootMnt, rootMnt.root);
  moveFsRefs(t.kernel, ns, () => ns.pivot(rootMnt, newMnt, old), from, new VirtualDentry(newMnt, newMnt.root));
  return 0;
}

export function registerPivotRoot(table: SyscallTable): void {
  table[SYS_pivot_root] = { name: 'pivot_root', handler: sysPivotRoot, args: ['path', 'path'] };
}
