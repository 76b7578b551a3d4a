// kcmp (Linux kernel/kcmp.c): whether two processes share a kernel object. Objects are
// compared by identity; the order reported for different ones (1 or 2) is by an id given to
// each object when first compared, as Linux orders by obfuscated pointers — stable, and
// meaningless beyond that. KCMP_EPOLL_TFD compares a file with one registered in an epoll
// instance of the other process.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EBADF, EINVAL, ENOENT, EPERM, ESRCH } from '../../abi/linux/errno';
import { EpollInstance } from '../../kernel/epoll';
import { SYS_kcmp } from '../../abi/linux/syscall_numbers';
import { ptraceMayAccess } from '../../kernel/ptrace_access';
import { signalActions } from './signal_state';
import type { SyscallArgs, SyscallTable } from './types';
import { findTask } from '../../kernel/ns/pid_ns';

const KCMP_FILE = 0, KCMP_VM = 1, KCMP_FILES = 2, KCMP_FS = 3, KCMP_SIGHAND = 4, KCMP_IO = 5, KCMP_SYSVSEM = 6,
  KCMP_EPOLL_TFD = 7;

/** kcmp_epoll_target: idx2 points (in the caller's memory) at struct kcmp_epoll_slot
 *  { u32 efd, tfd, toff }; the file registered there in task2's epoll instance efd. */
function epollPair(t: Task, t1: Task, t2: Task, idx1: number, slotAddr: number): [object, object] {
  const slot = t.mm.copyIn(slotAddr, 12);
  const v = new DataView(slot.buffer, slot.byteOffset, 12);
  const f1 = t1.fdTable.get(idx1);
  if (f1 === undefined) fail(EBADF);
  const ep = t2.fdTable.get(v.getInt32(0, true));
  if (ep === undefined) fail(EBADF);
  if (!(ep instanceof EpollInstance)) fail(EINVAL);
  const target = ep.targetFile(v.getInt32(4, true), v.getUint32(8, true));
  if (target === null) fail(ENOENT);
  return [f1, target];
}

const ids = new WeakMap<object, number>();
let nextId = 1;
function idOf(o: object): number {
  let id = ids.get(o);
  if (id === undefined) {
    id = nextId++;
    ids.set(o, id);
  }
  return id;
}

function object(t: Task, type: number, idx: number): object {
  switch (type) {
    case KCMP_FILE: {
      const f = t.fdTable.get(idx);
      if (f === undefined) fail(EBADF);
      return f;
    }
    case KCMP_VM: return t.mm;
    case KCMP_FILES: return t.fdTable;
    case KCMP_FS: return t.fs;
    case KCMP_SIGHAND: return signalActions(t.tg);
    // No CLONE_IO sharing or System V undo lists to tell apart: each task's own.
    case KCMP_IO: case KCMP_SYSVSEM: return t;
    default: fail(EINVAL);
  }
}

function sysKcmp(t: Task, a: SyscallArgs): number {
  const t1 = findTask(t, a.int(0));
  const t2 = findTask(t, a.int(1));
  if (t1 === undefined || t2 === undefined) fail(ESRCH);
  if (!ptraceMayAccess(t, t1.tg) || !ptraceMayAccess(t, t2.tg)) fail(EPERM);
  const type = a.int(2);
  const [o1, o2] = type === KCMP_EPOLL_TFD ? epollPair(t, t1, t2, a.int(3), a.ptr(4))
    : [object(t1, type, a.int(3)), object(t2, type, a.int(4))];
  if (o1 === o2) return 0;
  return idOf(o1) < idOf(o2) ? 1 : 2;
}

export function registerKcmp(table: SyscallTable): void {
  table[SYS_kcmp] = { name: 'kcmp', handler: sysKcmp, args: ['int', 'int', 'int', 'hex', 'hex'] };
}
