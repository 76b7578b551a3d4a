// Credentials: the ids and capabilities a task acts with (Linux struct cred, gVisor
// auth.Credentials). The sandbox starts with the host user's ids; set*id syscalls change
// the sandbox's copy only, never the host's. A task's Credentials object is replaced, not
// edited, when they change (prepare_creds/commit_creds), so a copy taken for a check
// (faccessat's real-id override) or held by another task never moves underneath.
// The ids are kernel ids (those of the initial user namespace); what a task in another user
// namespace sees of them goes through its namespace's maps (ns/user_namespace.ts).

import { CAP_EMPTY_SET, CAP_FULL_SET, capRaised } from './capabilities';
import { INIT_USER_NS, type UserNamespace } from './ns/user_namespace';
import type { LandlockDomain } from './landlock/domain';

export class Credentials {
  euid: number;
  egid: number;
  suid: number;
  sgid: number;
  fsuid: number;
  fsgid: number;
  /** Supplementary groups, sorted (groups_sort), as getgroups returns them. */
  groups: number[] = [];
  capPermitted: bigint;
  capEffective: bigint;
  capInheritable = CAP_EMPTY_SET;
  capBounding = CAP_FULL_SET;
  capAmbient = CAP_EMPTY_SET;
  securebits = 0;
  /** The user namespace the capabilities are held in. */
  userNs: UserNamespace = INIT_USER_NS;
  /** The Landlock domain restricting the task (landlock/domain.ts), or none. */
  landlock: LandlockDomain | null = null;

  /** A process started with these ids: root gets every capability, others none. */
  constructor(public uid: number, public gid: number) {
    this.euid = this.suid = this.fsuid = uid;
    this.egid = this.sgid = this.fsgid = gid;
    this.capPermitted = this.capEffective = uid === 0 ? CAP_FULL_SET : CAP_EMPTY_SET;
  }

  clone(): Credentials {
    const c = new Credentials(this.uid, this.gid);
    Object.assign(c, this);
    c.groups = [...this.groups];
    return c;
  }

  /** capable(): the capability held over the initial user namespace (everything the
   *  sandbox has that no other namespace owns). */
  hasCapability(cap: number): boolean {
    return this.userNs === INIT_USER_NS ? capRaised(this.capEffective, cap) : this.nsCapable(INIT_USER_NS, cap);
  }

  /** ns_capable / cap_capable: the capability over `ns`: held in the effective set when ns is
   *  the task's own namespace; every capability over a namespace below it that the task's
   *  euid created from the task's own namespace (its owner has them all there). */
  nsCapable(ns: UserNamespace, cap: number): boolean {
    for (let n: UserNamespace = ns; ;) {
      if (n === this.userNs) return capRaised(this.capEffective, cap);
      if (n.level <= this.userNs.level || n.parent === null) return false;
      if (n.parent === this.userNs && n.owner === this.euid) return true;
      n = n.parent;
    }
  }

  /** The kernel uid that is root in the task's namespace, or -1 if none (root_uid). */
  rootUid(): number {
    const k = this.userNs.uidMap.down(0);
    return k === 0xffffffff ? -1 : k;
  }

  /** in_group_p: the fs gid or a supplementary group. */
  inGroup(gid: number): boolean {
    return this.fsgid === gid || this.groups.includes(gid);
  }
}
