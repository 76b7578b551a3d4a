// shmget, shmat, shmdt, shmctl (Linux ipc/shm.c) over kernel/ipc/shm.ts.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EACCES, EIDRM, EINVAL, ENOSPC, EPERM } from '../../abi/linux/errno';
import { MAP_FIXED, MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE } from '../../abi/linux/mm';
import { SYS_shmat, SYS_shmctl, SYS_shmdt, SYS_shmget } from '../../abi/linux/syscall_numbers';
import { CAP_IPC_LOCK } from '../../kernel/capabilities';
import { SHMALL, SHMMAX, SHMMIN, SHMMNI, SHMSEG, type IpcNamespace } from '../../kernel/ipc/ipc';
import { ipcOf } from '../../kernel/ns/nsproxy';
import {
  IPC_INFO, IPC_RMID, IPC_SET, IPC_STAT, S_IRUGO, S_IWUGO, S_IXUGO,
} from '../../kernel/ipc/perm';
import { SHM_LOCKED, ShmBacking, ShmSegment, SHMID64_DS_SIZE } from '../../kernel/ipc/shm';
import { RLIMIT_MEMLOCK } from '../../kernel/rlimits';
import type { SyscallArgs, SyscallTable } from './types';

const SHM_RDONLY = 0o10000;
const SHM_RND = 0o20000;
const SHM_REMAP = 0o40000;
const SHM_EXEC = 0o100000;
const SHM_LOCK = 11;
const SHM_UNLOCK = 12;
const SHM_STAT = 13;
const SHM_INFO = 14;
const SHM_STAT_ANY = 15;
const PAGE = 4096;
/** SHMLBA on x86. */
const SHMLBA = PAGE;

function sysShmget(t: Task, a: SyscallArgs): number {
  const key = a.int(0);
  const size = a.size(1);
  const flags = a.int(2);
  const ns = ipcOf(t);
  return ns.shm.get(t.creds, key, flags, {
    create: (k) => {
      if (size < SHMMIN || size > SHMMAX) fail(EINVAL);
      const pages = Math.ceil(size / PAGE);
      if (ns.shmTot + pages > SHMALL) fail(ENOSPC);
      const seg = new ShmSegment(t.kernel, k, t.creds, flags, size, t.pid);
      ns.shmTot += pages;
      seg.onDestroy = () => {
        ns.shmTot -= pages;
        ns.shm.remove(seg);
      };
      return seg;
    },
    moreChecks: (seg) => { if (seg.size < size) fail(EINVAL); },
  });
}

function sysShmat(t: Task, a: SyscallArgs): number {
  const id = a.int(0);
  let addr = a.ptr(1);
  const flags = a.int(2);
  if (id < 0) fail(EINVAL);
  let mapFlags = MAP_SHARED;
  if (addr !== 0) {
    if (addr % SHMLBA !== 0) {
      if ((flags & SHM_RND) === 0) fail(EINVAL);
      addr -= addr % SHMLBA;
      if (addr === 0 && (flags & SHM_REMAP) !== 0) fail(EINVAL);
    }
    if (addr !== 0) mapFlags |= MAP_FIXED;
  } else if ((flags & SHM_REMAP) !== 0) {
    fail(EINVAL);
  }
  let prot = PROT_READ;
  let acc = S_IRUGO;
  if ((flags & SHM_RDONLY) === 0) {
    prot |= PROT_WRITE;
    acc |= S_IWUGO;
  }
  if ((flags & SHM_EXEC) !== 0) {
    prot |= PROT_EXEC;
    acc |= S_IXUGO;
  }
  const seg = ipcOf(t).shm.lookup(id);
  if (!seg.perm.permits(t.creds, acc)) fail(EACCES);
  if (seg.perm.deleted) fail(EIDRM);
  const len = Math.ceil(seg.size / PAGE) * PAGE;
  if (addr !== 0 && (flags & SHM_REMAP) === 0) {
    if (!Number.isSafeInteger(addr + len) || !t.mm.vmas.isFree(addr, addr + len)) fail(EINVAL);
  }
  // The description's mode bounds mprotect, as the O_RDONLY shm file does in Linux.
  const maxProt = (flags & SHM_RDONLY) !== 0 ? PROT_READ | PROT_EXEC : PROT_READ | PROT_WRITE | PROT_EXEC;
  return t.mm.mmap(addr, len, prot, mapFlags, seg.backing, 0, maxProt);
}

function sysShmdt(t: Task, a: SyscallArgs): number {
  const addr = a.ptr(0);
  if (addr % PAGE !== 0) fail(EINVAL);
  // The first attachment piece at or above addr whose offset matches its distance from
  // addr (ksys_shmdt), then the other pieces of that attachment within the segment's size.
  const vmas = t.mm.vmas.overlapping(addr, t.mm.maxAddr);
  let backing: ShmBacking | null = null;
  let end = 0;
  for (const v of vmas) {
    if (backing === null) {
      if (v.backing instanceof ShmBacking && v.start - addr === v.offset) {
        backing = v.backing;
        end = addr + Math.ceil(backing.segment.size / PAGE) * PAGE;
        t.mm.unmapRange(v.start, v.end);
      }
      continue;
    }
    if (v.end > end) break;
    if (v.backing === backing && v.start - addr === v.offset) t.mm.unmapRange(v.start, v.end);
  }
  if (backing === null) fail(EINVAL);
  return 0;
}

function sysShmctl(t: Task, a: SyscallArgs): number {
  const id = a.int(0);
  const cmd = a.int(1);
  const buf = a.ptr(2);
  if (cmd < 0 || id < 0) fail(EINVAL);
  const ns = ipcOf(t);
  switch (cmd) {
    case IPC_INFO: {
      const b = new DataView(new ArrayBuffer(72));
      [SHMMAX, SHMMIN, SHMMNI, SHMSEG, SHMALL].forEach((n, i) => b.setBigUint64(i * 8, BigInt(n), true));
      t.mm.copyOut(buf, new Uint8Array(b.buffer));
      return Math.max(0, ns.shm.maxIndex());
    }
    case SHM_INFO: {
      const b = new DataView(new ArrayBuffer(48));
      b.setInt32(0, ns.shm.inUse, true);
      b.setBigUint64(8, BigInt(ns.shmTot), true);
      b.setBigUint64(16, BigInt(shmRss(ns)), true);
      t.mm.copyOut(buf, new Uint8Array(b.buffer));
      return Math.max(0, ns.shm.maxIndex());
    }
    case IPC_STAT:
    case SHM_STAT:
    case SHM_STAT_ANY: {
      const seg = cmd === IPC_STAT ? ns.shm.lookup(id) : ns.shm.atIndex(id);
      if (cmd !== SHM_STAT_ANY && !seg.perm.permits(t.creds, S_IRUGO)) fail(EACCES);
      t.mm.copyOut(buf, seg.encode(t.creds.userNs));
      return cmd === IPC_STAT ? 0 : seg.perm.id;
    }
    case IPC_SET: {
      const ds = new DataView(t.mm.copyIn(buf, SHMID64_DS_SIZE).slice().buffer);
      const seg = ns.shm.lookup(id);
      seg.perm.checkOwner(t.creds);
      seg.perm.update(ds, 0, t.creds.userNs);
      seg.touchCtime();
      return 0;
    }
    case IPC_RMID: {
      const seg = ns.shm.lookup(id);
      seg.perm.checkOwner(t.creds);
      seg.markDestroyed();
      return 0;
    }
    case SHM_LOCK:
    case SHM_UNLOCK: {
      const seg = ns.shm.lookup(id);
      if (!t.creds.hasCapability(CAP_IPC_LOCK)) {
        if (t.creds.euid !== seg.perm.uid && t.creds.euid !== seg.perm.cuid) fail(EPERM);
        if (cmd === SHM_LOCK && t.tg.rlimits[RLIMIT_MEMLOCK].cur === 0n) fail(EPERM);
      }
      // Nothing here is ever swapped: the flag is all there is to lock.
      if (cmd === SHM_LOCK) seg.perm.mode |= SHM_LOCKED;
      else seg.perm.mode &= ~SHM_LOCKED;
      return 0;
    }
    default:
      fail(EINVAL);
  }
}

function shmRss(ns: IpcNamespace): number {
  let n = 0;
  for (const s of ns.shm.all()) n += s.pageCount;
  return n;
}

export function registerShm(table: SyscallTable): void {
  table[SYS_shmget] = { name: 'shmget', handler: sysShmget, args: ['int', 'size', 'hex'] };
  table[SYS_shmat] = { name: 'shmat', handler: sysShmat, args: ['int', 'ptr', 'hex'] };
  table[SYS_shmdt] = { name: 'shmdt', handler: sysShmdt, args: ['ptr'] };
  table[SYS_shmctl] = { name: 'shmctl', handler: sysShmctl, args: ['int', 'int', 'ptr'] };
}
