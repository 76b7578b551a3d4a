// sched_yield, sched_getaffinity, sched_setaffinity, getcpu (Linux kernel/sched/core.c,
// kernel/sys.c). Tasks are coroutines on one event loop, so affinity is recorded and
// reported but places nothing; a task says it runs on the first CPU its mask allows.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, EPERM, ESRCH } from '../../abi/linux/errno';
import { CAP_SYS_NICE } from '../../kernel/capabilities';
import {
  SYS_getcpu, SYS_sched_getaffinity, SYS_sched_setaffinity, SYS_sched_yield,
} from '../../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallTable } from './types';
import { cpuCount, cpuMaskSize, taskAttrs, taskCpu } from './task_attrs';
import { rseqCpuChanged } from './sys_rseq';
import { findTask } from '../../kernel/ns/pid_ns';

function taskOf(t: Task, pid: number): Task {
  if (pid === 0) return t;
  return findTask(t, pid) ?? fail(ESRCH);
}

/** Give the event loop a turn so that other tasks (and I/O) can run. */
function sysSchedYield(): Promise<number> {
  return new Promise((resolve) => setImmediate(() => resolve(0)));
}

/** The buffer must hold every possible CPU and be a whole number of longs; returns the
 *  bytes written. */
function sysSchedGetaffinity(t: Task, a: SyscallArgs): number {
  const len = a.uint(1);
  // len * BITS_PER_BYTE in unsigned int: a length from 2^29 up wraps (to less than the CPUs).
  if (((len * 8) >>> 0) < cpuCount() || (len & 7) !== 0) fail(EINVAL);
  const target = taskOf(t, a.int(0));
  const n = Math.min(len, cpuMaskSize());
  t.mm.copyOut(a.ptr(2), taskAttrs(target).affinity.subarray(0, n));
  return n;
}

/** A mask shorter than ours is zero-extended, a longer one cut; it must name an online CPU.
 *  Another user's task needs CAP_SYS_NICE (check_same_owner). */
function sysSchedSetaffinity(t: Task, a: SyscallArgs): number {
  const len = a.uint(1);
  const mask = new Uint8Array(cpuMaskSize());
  t.mm.copyInto(a.ptr(2), mask.subarray(0, Math.min(len, mask.length)));
  const target = taskOf(t, a.int(0));
  const c = t.creds, tc = target.creds;
  if (c.euid !== tc.euid && c.euid !== tc.uid && !c.hasCapability(CAP_SYS_NICE)) fail(EPERM);
  for (let i = cpuCount(); i < mask.length * 8; i++) mask[i >> 3] &= ~(1 << (i & 7));
  if (mask.every((b) => b === 0)) fail(EINVAL);
  taskAttrs(target).affinity = mask;
  // The task "migrates" to an allowed CPU: its rseq area says so on its way back to user space.
  rseqCpuChanged(target);
  return 0;
}

function sysGetcpu(t: Task, a: SyscallArgs): number {
  const cpu = a.ptr(0);
  const node = a.ptr(1);
  if (cpu !== 0) t.mm.writeU32(cpu, taskCpu(t));
  if (node !== 0) t.mm.writeU32(node, 0);
  return 0;
}

export function registerSched(table: SyscallTable): void {
  table[SYS_sched_yield] = { name: 'sched_yield', handler: sysSchedYield, args: [] };
  table[SYS_sched_getaffinity] = {
    name: 'sched_getaffinity', handler: sysSchedGetaffinity, args: ['int', 'size', 'outptr'],
  };
  table[SYS_sched_setaffinity] = {
    name: 'sched_setaffinity', handler: sysSchedSetaffinity, args: ['int', 'size', 'ptr'],
  };
  table[SYS_getcpu] = { name: 'getcpu', handler: sysGetcpu, args: ['outptr', 'outptr', 'ptr'] };
}
