// rseq (Linux kernel/rseq.c): glibc registers a restartable-sequences area per thread at
// start-up and reads the current CPU from it (sched_getcpu). We accept the registration and
// keep the area's CPU fields at the one CPU a task is told it runs on (task_attrs.ts
// taskCpu: the first its affinity allows) but do not
// implement restarts: no critical section is ever aborted, which is correct as long as the
// sentry never migrates or preempts a task in the middle of one in a way it could observe.

import type { Task } from '../../kernel/task';
import { SyscallError, fail } from '../../kernel/syscall_error';
import { EBUSY, EFAULT, EINVAL, EPERM } from '../../abi/linux/errno';
import { SYS_rseq } from '../../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallTable } from './types';
import { accessOk } from './user_io';
import { taskCpu } from './task_attrs';

const RSEQ_FLAG_UNREGISTER = 1;
/** sizeof(struct rseq) in its original form, also its alignment. */
const ORIG_RSEQ_SIZE = 32;
/** cpu_id after unregistration (RSEQ_CPU_ID_UNINITIALIZED). */
const CPU_ID_UNINITIALIZED = 0xffffffff;
// Field offsets in struct rseq.
const CPU_ID_START = 0, CPU_ID = 4, NODE_ID = 20, MM_CID = 24;

function writeCpuFields(t: Task, addr: number, cpuId: number): void {
  t.mm.writeU32(addr + CPU_ID_START, 0);
  t.mm.writeU32(addr + CPU_ID, cpuId);
  t.mm.writeU32(addr + NODE_ID, 0);
  t.mm.writeU32(addr + MM_CID, 0);
}

/** t's CPU changed (sched_setaffinity): its registered area shows the new one. A fault
 *  leaves it: Linux would kill the task on its way out, and it will see no wrong CPU. */
export function rseqCpuChanged(t: Task): void {
  if (t.rseqAddr === 0) return;
  try {
    writeCpuFields(t, t.rseqAddr, taskCpu(t));
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
  }
}

function sysRseq(t: Task, a: SyscallArgs): number {
  const addr = a.ptr(0);
  const len = a.uint(1);
  const flags = a.int(2);
  const sig = a.uint(3);

  if (flags & RSEQ_FLAG_UNREGISTER) {
    if (flags & ~RSEQ_FLAG_UNREGISTER) fail(EINVAL);
    if (t.rseqAddr === 0 || t.rseqAddr !== addr) fail(EINVAL);
    if (len !== t.rseqLen) fail(EINVAL);
    if (sig !== t.rseqSig) fail(EPERM);
    writeCpuFields(t, addr, CPU_ID_UNINITIALIZED);
    t.rseqAddr = 0;
    t.rseqLen = 0;
    t.rseqSig = 0;
    return 0;
  }
  if (flags !== 0) fail(EINVAL);
  if (t.rseqAddr !== 0) {
    if (t.rseqAddr !== addr || len !== t.rseqLen) fail(EINVAL);
    if (sig !== t.rseqSig) fail(EPERM);
    fail(EBUSY);
  }
  // The original 32-byte struct, or a longer one; either way 32-byte aligned.
  if (len < ORIG_RSEQ_SIZE || addr % ORIG_RSEQ_SIZE !== 0) fail(EINVAL);
  if (!accessOk(addr, len)) fail(EFAULT);
  // Linux fills these on the way back to user space; a fault there would kill the task, an
  // EFAULT is the kinder equivalent.
  writeCpuFields(t, addr, taskCpu(t));
  t.rseqAddr = addr;
  t.rseqLen = len;
  t.rseqSig = sig;
  return 0;
}

export function registerRseq(table: SyscallTable): void {
  table[SYS_rseq] = { name: 'rseq', handler: sysRseq, args: ['ptr', 'uint', 'hex', 'hex'] };
}
