// IpcPerm: the owner, creator and mode every System V IPC object carries (Linux
// kern_ipc_perm), the access check (ipcperms: CAP_IPC_OWNER over the IPC namespace's owner), and the struct ipc64_perm layout that
// IPC_STAT reports and IPC_SET reads.

import type { Credentials } from '../credentials';
import { CAP_IPC_OWNER, CAP_SYS_ADMIN } from '../capabilities';
import { EINVAL, EPERM } from '../../abi/linux/errno';
import { fail } from '../syscall_error';
import { INIT_USER_NS, INVALID_ID, fromKgid, fromKuid, makeKgid, makeKuid, type UserNamespace } from '../ns/user_namespace';

export const IPC_PRIVATE = 0;
export const IPC_CREAT = 0o1000;
export const IPC_EXCL = 0o2000;
export const IPC_NOWAIT = 0o4000;
export const IPC_RMID = 0;
export const IPC_SET = 1;
export const IPC_STAT = 2;
export const IPC_INFO = 3;
/** sizeof(struct ipc64_perm). */
export const IPC64_PERM_SIZE = 48;

export class IpcPerm {
  uid: number;
  gid: number;
  readonly cuid: number;
  readonly cgid: number;
  /** Low 9 bits are the permissions; shm keeps SHM_DEST/SHM_LOCKED above them. */
  mode: number;
  /** The full identifier (index + seq << 15) that the get syscall returned. */
  id = -1;
  seq = 0;
  /** Set by IPC_RMID: the object is gone for every new lookup. */
  deleted = false;
  /** The owner of the IPC namespace the object lives in (set when it is added). */
  ownerNs: UserNamespace = INIT_USER_NS;

  constructor(public key: number, creds: Credentials, mode: number) {
    this.uid = this.cuid = creds.euid;
    this.gid = this.cgid = creds.egid;
    this.mode = mode & 0o777;
  }

  /** ipcperms: does `creds` have the rwx bits of `flag` (S_IRUGO etc., or a get's mode)? */
  permits(creds: Credentials, flag: number): boolean {
    const requested = (flag >> 6) | (flag >> 3) | flag;
    let granted = this.mode;
    if (creds.euid === this.cuid || creds.euid === this.uid) granted >>= 6;
    else if (creds.inGroup(this.cgid) || creds.inGroup(this.gid)) granted >>= 3;
    return (requested & ~granted & 0o7) === 0 || creds.nsCapable(this.ownerNs, CAP_IPC_OWNER);
  }

  /** ipcctl_obtain_check: IPC_SET and IPC_RMID need the owner, the creator or CAP_SYS_ADMIN. */
  checkOwner(creds: Credentials): void {
    if (creds.euid !== this.cuid && creds.euid !== this.uid && !creds.nsCapable(this.ownerNs, CAP_SYS_ADMIN)) fail(EPERM);
  }

  /** struct ipc64_perm. */
  encode(v: DataView, at: number, ns: UserNamespace = INIT_USER_NS): void {
    // The ids as the reader's user namespace names them.
    v.setInt32(at, this.key, true);
    v.setUint32(at + 4, fromKuid(ns, this.uid), true);
    v.setUint32(at + 8, fromKgid(ns, this.gid), true);
    v.setUint32(at + 12, fromKuid(ns, this.cuid), true);
    v.setUint32(at + 16, fromKgid(ns, this.cgid), true);
    v.setUint16(at + 20, this.mode & 0xffff, true);
    v.setUint16(at + 24, this.seq, true);
  }

  /** IPC_SET (ipc_update_perm): uid, gid and the permission bits from a struct ipc64_perm. */
  update(v: DataView, at: number, ns: UserNamespace = INIT_USER_NS): void {
    // Ids the caller's namespace does not map are EINVAL.
    const uid = makeKuid(ns, v.getUint32(at + 4, true)), gid = makeKgid(ns, v.getUint32(at + 8, true));
    if (uid === INVALID_ID || gid === INVALID_ID) fail(EINVAL);
    this.uid = uid;
    this.gid = gid;
    this.mode = (this.mode & ~0o777) | (v.getUint16(at + 20, true) & 0o777);
  }
}

export const S_IRUGO = 0o444;
export const S_IWUGO = 0o222;
export const S_IXUGO = 0o111;
