// Credentials: the ids a task acts with (Linux struct cred). The sandbox starts with the
// host user's ids; set*id syscalls change this copy only, never the host's.

export class Credentials {
  constructor(
    public uid: number, public gid: number,
    public euid = uid, public egid = gid,
    public suid = uid, public sgid = gid,
    public fsuid = euid, public fsgid = egid,
    public groups: number[] = [],
  ) {}

  clone(): Credentials {
    return new Credentials(this.uid, this.gid, this.euid, this.egid, this.suid, this.sgid,
      this.fsuid, this.fsgid, [...this.groups]);
  }
}
