// gettid, set_tid_address, set_robust_list, get_robust_list: the per-thread addresses the
// C library registers at start-up (Linux kernel/fork.c, kernel/futex/syscalls.c). They are
// recorded for the exit path (clear_child_tid wake-up, robust futex cleanup) to use.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, ESRCH } from '../../abi/linux/errno';
import {
  SYS_get_robust_list, SYS_gettid, SYS_set_robust_list, SYS_set_tid_address,
} from '../../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallTable } from './types';
import { findTask, vtid } from '../../kernel/ns/pid_ns';

/** sizeof(struct robust_list_head): the only length set_robust_list accepts. */
const ROBUST_LIST_HEAD_SIZE = 24;

function sysGettid(t: Task): number {
  return vtid(t, t);
}

function sysSetTidAddress(t: Task, a: SyscallArgs): number {
  t.clearChildTid = a.ptr(0);
  return vtid(t, t);
}

function sysSetRobustList(t: Task, a: SyscallArgs): number {
  if (a.size(1) !== ROBUST_LIST_HEAD_SIZE) fail(EINVAL);
  t.robustListHead = a.ptr(0);
  t.robustListLen = ROBUST_LIST_HEAD_SIZE;
  return 0;
}

/** Another thread's list needs ptrace-read access to it; within one sandbox user that is the
 *  same-uid rule, so only the lookup can fail. Linux writes the length first. */
function sysGetRobustList(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  const target = pid === 0 ? t : findTask(t, pid);
  if (!target) fail(ESRCH);
  t.mm.writeU64(a.ptr(2), BigInt(ROBUST_LIST_HEAD_SIZE));
  t.mm.writeU64(a.ptr(1), BigInt(target.robustListHead));
  return 0;
}

export function registerThread(table: SyscallTable): void {
  table[SYS_gettid] = { name: 'gettid', handler: sysGettid, args: [] };
  table[SYS_set_tid_address] = { name: 'set_tid_address', handler: sysSetTidAddress, args: ['ptr'] };
  table[SYS_set_robust_list] = { name: 'set_robust_list', handler: sysSetRobustList, args: ['ptr', 'size'] };
  table[SYS_get_robust_list] = { name: 'get_robust_list', handler: sysGetRobustList, args: ['int', 'outptr', 'outptr'] };
}
