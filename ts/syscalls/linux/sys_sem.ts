// semget, semop, semtimedop, semctl (Linux ipc/sem.c) over kernel/ipc/sem.ts.

import type { Task } from '../../kernel/task';
import { SyscallError, fail } from '../../kernel/syscall_error';
import { block } from '../../kernel/blocking';
import { E2BIG, EACCES, EAGAIN, EFBIG, EINTR, EINVAL, ENOSPC, ERANGE } from '../../abi/linux/errno';
import { SYS_semctl, SYS_semget, SYS_semop, SYS_semtimedop } from '../../abi/linux/syscall_numbers';
import { SEMAEM, SEMMNI, SEMMNS, SEMMSL, SEMOPM, SEMVMX } from '../../kernel/ipc/ipc';
import { ipcOf } from '../../kernel/ns/nsproxy';
import { IPC_INFO, IPC_RMID, IPC_SET, IPC_STAT, S_IRUGO, S_IWUGO } from '../../kernel/ipc/perm';
import { SEMID64_DS_SIZE, SEM_UNDO, SemSet, type Sembuf } from '../../kernel/ipc/sem';
import { undoFor } from '../../kernel/ipc/undo';
import { copyInTimespec, timespecToNs, timespecValid } from './timespec';
import type { SyscallArgs, SyscallReturn, SyscallTable } from './types';

const GETPID = 11;
const GETVAL = 12;
const GETALL = 13;
const GETNCNT = 14;
const GETZCNT = 15;
const SETVAL = 16;
const SETALL = 17;
const SEM_STAT = 18;
const SEM_INFO = 19;
const SEM_STAT_ANY = 20;
/** SEMMAP, SEMMNU, SEMUME, SEMUSZ of include/uapi/linux/sem.h. */
const SEMUME = SEMOPM;
const SEMUSZ = 20;

function sysSemget(t: Task, a: SyscallArgs): number {
  const key = a.int(0);
  const nsems = a.int(1);
  const flags = a.int(2);
  if (nsems < 0 || nsems > SEMMSL) fail(EINVAL);
  const ns = ipcOf(t);
  return ns.sem.get(t.creds, key, flags, {
    create: (k) => {
      if (nsems === 0) fail(EINVAL);
      if (ns.usedSems + nsems > SEMMNS) fail(ENOSPC);
      ns.usedSems += nsems;
      return new SemSet(t.kernel, k, t.creds, flags, nsems);
    },
    moreChecks: (s) => { if (nsems > s.nsems) fail(EINVAL); },
  });
}

function sysSemtimedop(t: Task, id: number, sopsAddr: number, nsops: number, timeoutAddr: number): SyscallReturn {
  if (nsops < 1 || id < 0) fail(EINVAL);
  if (nsops > SEMOPM) fail(E2BIG);
  const raw = t.mm.copyIn(sopsAddr, nsops * 6);
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const sops: Sembuf[] = [];
  for (let i = 0; i < nsops; i++) {
    sops.push({ num: v.getUint16(i * 6, true), op: v.getInt16(i * 6 + 2, true), flg: v.getInt16(i * 6 + 4, true) });
  }
  let timeoutNs: bigint | undefined;
  if (timeoutAddr !== 0) {
    const ts = copyInTimespec(t, timeoutAddr);
    if (!timespecValid(ts)) fail(EINVAL);
    timeoutNs = timespecToNs(ts);
  }
  const max = Math.max(...sops.map((s) => s.num));
  const undo = sops.some((s) => (s.flg & SEM_UNDO) !== 0);
  const alter = sops.some((s) => s.op !== 0);
  const set = ipcOf(t).sem.lookup(id);
  if (max >= set.nsems) fail(EFBIG);
  if (!set.perm.permits(t.creds, alter ? S_IWUGO : S_IRUGO)) fail(EACCES);
  const adj = undo ? undoFor(t, set) : null;
  const first = set.tryOps(sops, t.pid, adj);
  if ('errno' in first) {
    if (first.errno !== 0) fail(first.errno);
    return 0;
  }
  // Not restarted after a signal, whatever SA_RESTART says (semop(2)); a timeout is EAGAIN.
  return block<number>(t, (wake) => set.enqueue({ sops, pid: t.pid, adj, blocking: first.block, wake }),
    { restart: EINTR, timeoutNs }, () => EAGAIN).then((errno) => {
    if (errno !== 0) throw new SyscallError(errno);
    return 0;
  });
}

function sysSemctl(t: Task, a: SyscallArgs): number {
  const id = a.int(0);
  const semnum = a.int(1);
  const cmd = a.int(2);
  const arg = a.ptr(3);
  if (id < 0) fail(EINVAL);
  const ns = ipcOf(t);
  switch (cmd) {
    case IPC_INFO:
    case SEM_INFO: {
      const b = new DataView(new ArrayBuffer(40));
      const info = cmd === SEM_INFO
        ? [SEMMNS, SEMMNI, SEMMNS, SEMMNS, SEMMSL, SEMOPM, SEMUME, ns.sem.inUse, SEMVMX, ns.usedSems]
        : [SEMMNS, SEMMNI, SEMMNS, SEMMNS, SEMMSL, SEMOPM, SEMUME, SEMUSZ, SEMVMX, SEMAEM];
      info.forEach((n, i) => b.setInt32(i * 4, n, true));
      t.mm.copyOut(arg, new Uint8Array(b.buffer));
      return Math.max(0, ns.sem.maxIndex());
    }
    case IPC_STAT:
    case SEM_STAT:
    case SEM_STAT_ANY: {
      const set = cmd === IPC_STAT ? ns.sem.lookup(id) : ns.sem.atIndex(id);
      if (cmd !== SEM_STAT_ANY && !set.perm.permits(t.creds, S_IRUGO)) fail(EACCES);
      t.mm.copyOut(arg, set.encode(t.creds.userNs));
      return cmd === IPC_STAT ? 0 : set.perm.id;
    }
    case SETVAL: {
      const val = a.int(3);
      if (val > SEMVMX || val < 0) fail(ERANGE);
      const set = ns.sem.lookup(id);
      if (semnum < 0 || semnum >= set.nsems) fail(EINVAL);
      if (!set.perm.permits(t.creds, S_IWUGO)) fail(EACCES);
      set.setValues(semnum, [val], t.pid);
      return 0;
    }
    case GETALL:
    case SETALL:
    case GETVAL:
    case GETPID:
    case GETNCNT:
    case GETZCNT: {
      const set = ns.sem.lookup(id);
      if (!set.perm.permits(t.creds, cmd === SETALL ? S_IWUGO : S_IRUGO)) fail(EACCES);
      if (cmd === GETALL) {
        t.mm.copyOut(arg, new Uint8Array(set.vals.slice().buffer));
        return 0;
      }
      if (cmd === SETALL) {
        const raw = t.mm.copyIn(arg, set.nsems * 2).slice();
        const vals = new Uint16Array(raw.buffer);
        if (vals.some((x) => x > SEMVMX)) fail(ERANGE);
        set.setValues(0, vals, t.pid);
        return 0;
      }
      if (semnum < 0 || semnum >= set.nsems) fail(EINVAL);
      if (cmd === GETVAL) return set.vals[semnum];
      if (cmd === GETPID) return set.pids[semnum];
      return set.count(semnum, cmd === GETZCNT);
    }
    case IPC_SET: {
      const ds = new DataView(t.mm.copyIn(arg, SEMID64_DS_SIZE).slice().buffer);
      const set = ns.sem.lookup(id);
      set.perm.checkOwner(t.creds);
      set.perm.update(ds, 0, t.creds.userNs);
      set.touchCtime();
      return 0;
    }
    case IPC_RMID: {
      const set = ns.sem.lookup(id);
      set.perm.checkOwner(t.creds);
      ns.sem.remove(set);
      ns.usedSems -= set.nsems;
      set.destroy();
      return 0;
    }
    default:
      fail(EINVAL);
  }
}

export function registerSem(table: SyscallTable): void {
  table[SYS_semget] = { name: 'semget', handler: sysSemget, args: ['int', 'int', 'hex'] };
  table[SYS_semop] = {
    name: 'semop', handler: (t, a) => sysSemtimedop(t, a.int(0), a.ptr(1), a.size(2), 0), args: ['int', 'ptr', 'size'],
  };
  table[SYS_semtimedop] = {
    name: 'semtimedop', handler: (t, a) => sysSemtimedop(t, a.int(0), a.ptr(1), a.size(2), a.ptr(3)),
    args: ['int', 'ptr', 'size', 'timespec'],
  };
  table[SYS_semctl] = { name: 'semctl', handler: sysSemctl, args: ['int', 'int', 'int', 'hex'] };
}
