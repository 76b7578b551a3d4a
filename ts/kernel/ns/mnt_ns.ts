// Mount namespaces (Linux fs/namespace.c copy_mnt_ns): which mount tree a task's paths resolve
// in. The initial namespace's tree is the sandbox's (vfs/task_fs.ts mountNamespaceOf); a new
// one (unshare/clone CLONE_NEWNS) starts as a copy of its creator's, whose mounts are all
// private: mount(2) records propagation types, but no mount event propagates between
// namespaces (Linux would make a shared mount's copy its peer).

import type { Kernel } from '../kernel';
import type { Mount, MountNamespace } from '../../vfs/mount';
import { mountNamespaceOf } from '../../vfs/task_fs';
import { NS_MNT } from '../ns_file';
import { Namespace } from './namespace';
import type { UserNamespace } from './user_namespace';

export class MntNamespace extends Namespace {
  constructor(userNs: UserNamespace, private readonly treeOf: () => MountNamespace,
    /** For a copy: the copy each mount of the creator's namespace got (to move cwd into). */
    readonly copies: ReadonlyMap<Mount, Mount> | null = null, ino?: number) {
    super(NS_MNT, userNs, ino);
  }

  get tree(): MountNamespace { return this.treeOf(); }
}

export function initialMntNamespace(k: Kernel, userNs: UserNamespace): MntNamespace {
  return new MntNamespace(userNs, () => mountNamespaceOf(k), null, NS_MNT.ino);
}

export function copyMntNamespace(old: MntNamespace, userNs: UserNamespace): MntNamespace {
  const { ns, copies } = old.tree.copy();
  return new MntNamespace(userNs, () => ns, copies);
}
