// Credentials: the ids and capabilities a task acts with (Linux struct cred, gVisor
// auth.Credentials). The sandbox starts with the host user's ids; set*id syscalls change
// the sandbox's copy only, never the host's. A task's Credentials object is replaced, not
// edited, when they change (prepare_creds/commit_creds), so a copy taken for a check
// (faccessat's real-id override) or held by another task never moves underneath.

import { CAP_EMPTY_SET, CAP_FULL_SET, capRaised } from './capabilities';

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

  /** capable(): the capability is in the effective set (one user namespace). */
  hasCapability(cap: number): boolean {
    return capRaised(this.capEffective, cap);
  }

  /** in_group_p: the fs gid or a supplementary group. */
  inGroup(gid: number): boolean {
    return this.fsgid === gid || this.groups.includes(gid);
  }
}
