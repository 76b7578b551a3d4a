// System V IPC (Linux ipc/util.c, ipc/namespace.c; gVisor kernel/ipc).
//
// Owns: the sandbox's one IPC namespace — the tables of shared memory segments (shm.ts),
// semaphore sets (sem.ts) and message queues (msg.ts), their limits (what IPC_INFO
// reports), and the shared machinery: identifiers and get (ids.ts), owner, mode and the
// access check (perm.ts). Syscall argument decoding lives in syscalls/linux/sys_{shm,sem,msg}.ts;
// POSIX message queues are files of fsimpl/mqueue.
// Must not touch: address spaces (shmat goes through MemoryManager.mmap with the segment's
// MappingBacking), tasks beyond their credentials and pid.

import type { Kernel } from '../kernel';
import { IpcIds } from './ids';
import type { UserNamespace } from '../ns/user_namespace';
import type { ShmSegment } from './shm';
import type { SemSet } from './sem';
import type { MsgQueue } from './msg';

// Linux's defaults (include/uapi/linux/{shm,sem,msg}.h).
export const SHMMIN = 1;
export const SHMMNI = 4096;
export const SHMMAX = 2 ** 64 - 2 ** 24;
export const SHMALL = 2 ** 64 - 2 ** 24;
export const SHMSEG = SHMMNI;
export const SEMMNI = 32000;
export const SEMMSL = 32000;
export const SEMMNS = SEMMNI * SEMMSL;
export const SEMOPM = 500;
export const SEMVMX = 32767;
export const SEMAEM = SEMVMX;
export const MSGMNI = 32000;
export const MSGMAX = 8192;
export const MSGMNB = 16384;

export class IpcNamespace {
  readonly shm = new IpcIds<ShmSegment>(SHMMNI);
  readonly sem = new IpcIds<SemSet>(SEMMNI);
  readonly msg = new IpcIds<MsgQueue>(MSGMNI);
  /** Pages of all segments (shm_tot). */
  shmTot = 0;
  /** Semaphores in all sets (used_sems). */
  usedSems = 0;
  constructor(readonly kernel: Kernel) {}
}

const namespaces = new WeakMap<Kernel, IpcNamespace>();

export function ipcNamespace(k: Kernel): IpcNamespace {
  let ns = namespaces.get(k);
  if (ns === undefined) {
    ns = new IpcNamespace(k);
    namespaces.set(k, ns);
  }
  return ns;
}

/** The tables of a namespace made by unshare/clone(CLONE_NEWIPC): empty, with the defaults,
 *  administered from `owner`. */
export function newIpcNamespace(k: Kernel, owner: UserNamespace): IpcNamespace {
  const ns = new IpcNamespace(k);
  ns.shm.ownerNs = ns.sem.ownerNs = ns.msg.ownerNs = owner;
  return ns;
}
