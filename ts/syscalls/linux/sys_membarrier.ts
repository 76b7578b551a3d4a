// membarrier (Linux kernel/sched/membarrier.c). Every syscall of every task already passes
// through the sentry, and a barrier's effect — all other threads having passed a full
// memory barrier — is what a trip through the kernel gives: the host's own membarrier on the
// sentry's process would not reach the stubs, so the expedited commands are answered by
// interrupting every running task of the process (or all, for the global one) and the plain
// ones by the sentry's own full barrier (Atomics). Registration is tracked per process as
// Linux requires (EPERM for an expedited command not registered first).

import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread_group';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, EPERM } from '../../abi/linux/errno';
import { SYS_membarrier } from '../../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallTable } from './types';

const QUERY = 0, GLOBAL = 1, GLOBAL_EXPEDITED = 2, REGISTER_GLOBAL_EXPEDITED = 4,
  PRIVATE_EXPEDITED = 8, REGISTER_PRIVATE_EXPEDITED = 16, PRIVATE_EXPEDITED_SYNC_CORE = 32,
  REGISTER_PRIVATE_EXPEDITED_SYNC_CORE = 64, PRIVATE_EXPEDITED_RSEQ = 128,
  REGISTER_PRIVATE_EXPEDITED_RSEQ = 256, GET_REGISTRATIONS = 512;
const FLAG_CPU = 1;
const SUPPORTED = GLOBAL | GLOBAL_EXPEDITED | REGISTER_GLOBAL_EXPEDITED | PRIVATE_EXPEDITED |
  REGISTER_PRIVATE_EXPEDITED | PRIVATE_EXPEDITED_SYNC_CORE | REGISTER_PRIVATE_EXPEDITED_SYNC_CORE |
  PRIVATE_EXPEDITED_RSEQ | REGISTER_PRIVATE_EXPEDITED_RSEQ | GET_REGISTRATIONS;

const registered = new WeakMap<ThreadGroup, number>();
const sab = new Int32Array(new SharedArrayBuffer(4));

function barrier(tasks: Iterable<Task>, self: Task): void {
  Atomics.add(sab, 0, 1); // a full fence in the sentry
  for (const o of tasks) if (o !== self && !o.exited) o.ctx.interrupt();
}

function sysMembarrier(t: Task, a: SyscallArgs): number {
  const cmd = a.int(0);
  const flags = a.uint(1);
  if (cmd === QUERY) {
    if (flags !== 0) fail(EINVAL);
    return SUPPORTED;
  }
  if ((cmd === PRIVATE_EXPEDITED_RSEQ ? flags & ~FLAG_CPU : flags) !== 0) fail(EINVAL);
  const regs = registered.get(t.tg) ?? 0;
  switch (cmd) {
    case GLOBAL: case GLOBAL_EXPEDITED:
      barrier(t.kernel.tasks.values(), t);
      return 0;
    case REGISTER_GLOBAL_EXPEDITED: case REGISTER_PRIVATE_EXPEDITED:
    case REGISTER_PRIVATE_EXPEDITED_SYNC_CORE: case REGISTER_PRIVATE_EXPEDITED_RSEQ:
      registered.set(t.tg, regs | cmd);
      return 0;
    case PRIVATE_EXPEDITED: case PRIVATE_EXPEDITED_SYNC_CORE: case PRIVATE_EXPEDITED_RSEQ:
      // Each expedited command needs its own registration (its REGISTER_ is the next bit).
      if ((regs & (cmd << 1)) === 0) fail(EPERM);
      barrier(t.tg.tasks, t);
      return 0;
    case GET_REGISTRATIONS:
      return regs;
    default:
      fail(EINVAL);
  }
}

export function registerMembarrier(table: SyscallTable): void {
  table[SYS_membarrier] = { name: 'membarrier', handler: sysMembarrier, args: ['int', 'hex', 'int'] };
}
