// IpcIds: one kind's table of System V objects (Linux struct ipc_ids): identifiers
// (index + seq << 15, so a stale id misses), lookup by key, and the get logic shared by
// shmget, semget and msgget (ipcget: IPC_PRIVATE, IPC_CREAT, IPC_EXCL, the mode check).

import type { Credentials } from '../credentials';
import { EACCES, EEXIST, EINVAL, ENOENT, ENOSPC } from '../../abi/linux/errno';
import { fail } from '../syscall_error';
import { IPC_CREAT, IPC_EXCL, IPC_PRIVATE, type IpcPerm } from './perm';
import { INIT_USER_NS, type UserNamespace } from '../ns/user_namespace';

const IPCMNI_SHIFT = 15;
const IPCMNI = 1 << IPCMNI_SHIFT;
const SEQ_MAX = 0x7fff_ffff >> IPCMNI_SHIFT;
const IPC_MIN_CYCLE = 64;

export interface IpcObject { readonly perm: IpcPerm }

export interface GetOps<T extends IpcObject> {
  /** Make a new object (after the limits are checked); throws its own errors. */
  create(key: number): T;
  /** Checks an existing object must pass (a size or count too large: EINVAL). */
  moreChecks?(obj: T): void;
}

export class IpcIds<T extends IpcObject> {
  private readonly byIdx = new Map<number, T>();
  private seq = 0;
  private lastIdx = -1;

  /** The user namespace owning the IPC namespace (whose CAP_IPC_OWNER/CAP_SYS_ADMIN count). */
  ownerNs: UserNamespace = INIT_USER_NS;

  constructor(private readonly mni: number) {}

  get inUse(): number { return this.byIdx.size; }

  /** The live objects in index order (/proc/sysvipc's). */
  objects(): T[] { return [...this.byIdx.entries()].sort((a, b) => a[0] - b[0]).map(([, o]) => o); }

  /** ipcget: the id of the object for key, made if the flags say so. */
  get(creds: Credentials, key: number, flags: number, ops: GetOps<T>): number {
    if (key !== IPC_PRIVATE) {
      const found = this.findKey(key);
      if (found !== undefined) {
        if ((flags & IPC_CREAT) !== 0 && (flags & IPC_EXCL) !== 0) fail(EEXIST);
        ops.moreChecks?.(found);
        if (!found.perm.permits(creds, flags)) fail(EACCES);
        return found.perm.id;
      }
      if ((flags & IPC_CREAT) === 0) fail(ENOENT);
    }
    if (this.byIdx.size >= this.mni) fail(ENOSPC);
    const obj = ops.create(key);
    this.add(obj);
    return obj.perm.id;
  }

  private findKey(key: number): T | undefined {
    for (const o of this.byIdx.values()) if (o.perm.key === key) return o;
    return undefined;
  }

  /** ipc_idr_alloc: the next free index after the last one given (idr_alloc_cyclic), the
   *  sequence number moving on only when the index wrapped round, so a stale id misses. */
  private add(obj: T): void {
    // The cycle is short while few objects live (ipc_min_cycle, a radix tree node's 64).
    const maxIdx = Math.min(Math.max(Math.floor(this.byIdx.size * 3 / 2), IPC_MIN_CYCLE), IPCMNI);
    let idx = this.lastIdx + 1;
    for (;; idx++) {
      if (idx >= maxIdx) idx = 0;
      if (!this.byIdx.has(idx)) break;
    }
    if (idx <= this.lastIdx) this.seq = this.seq + 1 >= SEQ_MAX ? 0 : this.seq + 1;
    this.lastIdx = idx;
    obj.perm.ownerNs = this.ownerNs;
    obj.perm.seq = this.seq;
    obj.perm.id = (this.seq << IPCMNI_SHIFT) + idx;
    this.byIdx.set(idx, obj);
  }

  /** ipc_obtain_object_check: EINVAL for a negative, unknown or stale id. */
  lookup(id: number): T {
    if (id < 0) fail(EINVAL);
    const obj = this.byIdx.get(id % IPCMNI);
    if (obj === undefined || obj.perm.id !== id) fail(EINVAL);
    return obj;
  }

  /** The object at a table index (SHM_STAT and friends), EINVAL if none. */
  atIndex(idx: number): T {
    const obj = idx >= 0 ? this.byIdx.get(idx) : undefined;
    if (obj === undefined) fail(EINVAL);
    return obj;
  }

  /** ipc_rmid: gone from the table; its key is free at once. */
  remove(obj: T): void {
    const idx = obj.perm.id % IPCMNI;
    if (this.byIdx.get(idx) === obj) this.byIdx.delete(idx);
    obj.perm.deleted = true;
  }

  /** ipc_get_maxidx: the highest index in use, -1 if none. */
  maxIndex(): number {
    let max = -1;
    for (const idx of this.byIdx.keys()) if (idx > max) max = idx;
    return max;
  }

  all(): T[] { return [...this.byIdx.values()]; }
}
