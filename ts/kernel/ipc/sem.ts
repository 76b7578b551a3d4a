// SemSet: one System V semaphore set (Linux struct sem_array, ipc/sem.c). semop applies a
// whole array of operations atomically or not at all; a caller that cannot proceed waits
// in the set's FIFO queue, and every change retries the queue in order (update_queue), so
// waiters are served in arrival order as far as their operations allow. SEM_UNDO
// adjustments are kept per task (undo.ts) and undone when it exits.

import { INIT_USER_NS, type UserNamespace } from '../ns/user_namespace';
import type { Kernel } from '../kernel';
import type { Credentials } from '../credentials';
import { EAGAIN, EIDRM, ERANGE } from '../../abi/linux/errno';
import { IPC64_PERM_SIZE, IPC_NOWAIT, IpcPerm } from './perm';
import { SEMAEM, SEMVMX } from './ipc';
import { nowSeconds } from './shm';

export const SEM_UNDO = 0x1000;
/** sizeof(struct semid64_ds). */
export const SEMID64_DS_SIZE = 104;

export interface Sembuf { num: number; op: number; flg: number }

/** One task's SEM_UNDO adjustments for one set (struct sem_undo). */
export type SemAdj = Int32Array;

/** A caller waiting in semop (struct sem_queue). */
export interface SemQueue {
  sops: Sembuf[];
  pid: number;
  adj: SemAdj | null;
  /** Index of the operation that blocked: GETNCNT/GETZCNT count by it. */
  blocking: number;
  wake(errno: number): void;
}

/** What trying the operations gave: done, an error, or the index of the one that must wait. */
type Outcome = { kind: 'done' } | { kind: 'error'; errno: number } | { kind: 'block'; at: number };

export class SemSet {
  readonly perm: IpcPerm;
  readonly vals: Uint16Array;
  readonly pids: Int32Array;
  otime = 0;
  ctime: number;
  private readonly queue: SemQueue[] = [];
  /** Every task's undo record for this set (SETVAL and SETALL clear them). */
  readonly undos = new Set<SemAdj>();

  constructor(private readonly kernel: Kernel, key: number, creds: Credentials, mode: number, readonly nsems: number) {
    this.perm = new IpcPerm(key, creds, mode);
    this.vals = new Uint16Array(nsems);
    this.pids = new Int32Array(nsems);
    this.ctime = nowSeconds(kernel);
  }

  /** perform_atomic_semop: all of sops or none (values, pids and undo adjustments). */
  private perform(sops: Sembuf[], pid: number, adj: SemAdj | null): Outcome {
    const vals = Int32Array.from(this.vals);
    const adjs = adj !== null ? Int32Array.from(adj) : null;
    for (let i = 0; i < sops.length; i++) {
      const s = sops[i];
      let r = vals[s.num];
      if (s.op === 0 && r !== 0) return this.wouldBlock(s, i);
      r += s.op;
      if (r < 0) return this.wouldBlock(s, i);
      if (r > SEMVMX) return { kind: 'error', errno: ERANGE };
      if ((s.flg & SEM_UNDO) !== 0 && adjs !== null) {
        const u = adjs[s.num] - s.op;
        if (u < -SEMAEM - 1 || u > SEMAEM) return { kind: 'error', errno: ERANGE };
        adjs[s.num] = u;
      }
      vals[s.num] = r;
    }
    this.vals.set(vals);
    if (adj !== null && adjs !== null) adj.set(adjs);
    for (const s of sops) this.pids[s.num] = pid;
    return { kind: 'done' };
  }

  private wouldBlock(s: Sembuf, at: number): Outcome {
    return (s.flg & IPC_NOWAIT) !== 0 ? { kind: 'error', errno: EAGAIN } : { kind: 'block', at };
  }

  /** semop's first try: 0 done, an errno, or the index that blocks (then the caller waits). */
  tryOps(sops: Sembuf[], pid: number, adj: SemAdj | null): { errno: number } | { block: number } {
    const r = this.perform(sops, pid, adj);
    if (r.kind === 'block') return { block: r.at };
    if (r.kind === 'error') return { errno: r.errno };
    this.otime = nowSeconds(this.kernel);
    if (sops.some((s) => s.op !== 0)) this.updateQueue();
    return { errno: 0 };
  }

  enqueue(q: SemQueue): () => void {
    this.queue.push(q);
    return () => {
      const i = this.queue.indexOf(q);
      if (i >= 0) this.queue.splice(i, 1);
    };
  }

  /** update_queue: after a change, serve waiters in order. One whose operations altered a
   *  value may let earlier ones go: start over. One that only waited for zero, or failed,
   *  changes nothing: go on with the next (every zero-waiter wakes when the value is 0). */
  updateQueue(): void {
    let i = 0;
    while (i < this.queue.length) {
      const q = this.queue[i];
      const r = this.perform(q.sops, q.pid, q.adj);
      if (r.kind === 'block') {
        q.blocking = r.at;
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      if (r.kind === 'error') {
        q.wake(r.errno);
        continue;
      }
      this.otime = nowSeconds(this.kernel);
      q.wake(0);
      if (q.sops.some((s) => s.op !== 0)) i = 0;
    }
  }

  /** SETVAL / SETALL: new values, undo adjustments of those semaphores forgotten. */
  setValues(first: number, values: ArrayLike<number>, pid: number): void {
    for (let i = 0; i < values.length; i++) {
      this.vals[first + i] = values[i];
      this.pids[first + i] = pid;
      for (const u of this.undos) u[first + i] = 0;
    }
    this.ctime = nowSeconds(this.kernel);
    this.updateQueue();
  }

  /** count_semcnt: waiters blocked on semnum wanting it to grow (GETNCNT) or be zero. */
  count(semnum: number, zero: boolean): number {
    let n = 0;
    for (const q of this.queue) {
      const s = q.sops[q.blocking];
      if (s.num === semnum && (zero ? s.op === 0 : s.op < 0)) n++;
    }
    return n;
  }

  /** freeary: every waiter gets EIDRM. */
  destroy(): void {
    for (const q of this.queue.splice(0)) q.wake(EIDRM);
    this.undos.clear();
  }

  /** exit_sem: a task's adjustments applied, clamped to [0, SEMVMX]. */
  applyUndo(adj: SemAdj, pid: number): void {
    for (let i = 0; i < this.nsems; i++) {
      if (adj[i] === 0) continue;
      this.vals[i] = Math.min(SEMVMX, Math.max(0, this.vals[i] + adj[i]));
      this.pids[i] = pid;
    }
    this.undos.delete(adj);
    this.updateQueue();
  }

  encode(ns: UserNamespace = INIT_USER_NS): Uint8Array {
    const b = new Uint8Array(SEMID64_DS_SIZE);
    const v = new DataView(b.buffer);
    this.perm.encode(v, 0, ns);
    v.setBigInt64(IPC64_PERM_SIZE, BigInt(this.otime), true);
    v.setBigInt64(IPC64_PERM_SIZE + 16, BigInt(this.ctime), true);
    v.setBigUint64(IPC64_PERM_SIZE + 32, BigInt(this.nsems), true);
    return b;
  }

  touchCtime(): void { this.ctime = nowSeconds(this.kernel); }
}
