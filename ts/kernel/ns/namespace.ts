// The namespaces a task holds besides its user namespace (Linux struct nsproxy's members):
// each an object with its kind, its nsfs inode number and the user namespace that owns it
// (whose CAP_SYS_ADMIN administers it). UTS names live here; the IPC, network and mount
// namespaces carry their subsystem's state (kernel/ipc, net, vfs) made for them.

import type { NsKind } from '../ns_file';
import type { UserNamespace } from './user_namespace';
import { newNsIno } from './ino';

export class Namespace {
  readonly ino: number;
  constructor(readonly kind: NsKind, readonly userNs: UserNamespace, ino?: number) {
    this.ino = ino ?? newNsIno();
  }
}

/** A UTS namespace: the names uname(2) reports (Linux struct uts_namespace). */
export class UtsNamespace extends Namespace {
  constructor(kind: NsKind, userNs: UserNamespace, public hostname: string, public domainname: string, ino?: number) {
    super(kind, userNs, ino);
  }
}

/** A namespace with subsystem state of type S (IPC tables, a network stack, a mount tree). */
export class StateNamespace<S> extends Namespace {
  constructor(kind: NsKind, userNs: UserNamespace, readonly state: S, ino?: number) {
    super(kind, userNs, ino);
  }
}
