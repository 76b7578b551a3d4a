// Address-space accounting against RLIMIT_AS and RLIMIT_DATA (Linux may_expand_vm). Linux
// keeps running totals; here they are summed from the VMAs, and only when a limit is set,
// so the unlimited case costs nothing.

import { PROT_WRITE } from '../abi/linux/mm';
import { hostTotalMem } from '../kernel/host_stats';
import { PAGE_SIZE } from './layout';
import type { Vma } from './vma';

/** The limits, in bytes (Infinity: none). The syscall layer refreshes them from the calling
 *  task's rlimits before each call that may grow the address space. */
export interface VmLimits { as: number; data: number }

/** is_data_mapping: private, writable and not a stack (VM_WRITE without VM_SHARED/VM_STACK). */
export function isDataMapping(prot: number, shared: boolean, growsDown: boolean): boolean {
  return (prot & PROT_WRITE) !== 0 && !shared && !growsDown;
}

/** may_expand_vm: whether `bytes` more of a mapping (data or not) stay within the limits. */
export function mayExpandVm(vmas: readonly Vma[], limits: VmLimits, data: boolean, bytes: number): boolean {
  if (limits.as === Infinity && (limits.data === Infinity || !data)) return true;
  let total = 0, dataVm = 0;
  for (const v of vmas) {
    total += v.length;
    if (isDataMapping(v.prot, v.shared, v.growsDown)) dataVm += v.length;
  }
  if (total + bytes > limits.as) return false;
  return !(data && dataVm + bytes > limits.data);
}

/** A limit in bytes from an rlimit value, rounded down to pages as Linux compares pages. */
export function limitBytes(cur: bigint): number {
  return cur >= 1n << 53n ? Infinity : Number(cur - (cur % 4096n));
}

/** accountable_mapping (and shmem's VM_ACCT for shared anonymous memory): what a mapping
 *  commits, checked against overcommit. MAP_NORESERVE opts out. */
export function accountable(prot: number, shared: boolean, anonymous: boolean, noReserve: boolean): boolean {
  if (noReserve) return false;
  return shared ? anonymous : (prot & PROT_WRITE) !== 0;
}

/**
 * __vm_enough_memory under vm.overcommit_memory 0 (OVERCOMMIT_GUESS): one request larger than
 * all of RAM and swap (the sandbox shows no swap) is an obvious overcommit and fails; anything
 * smaller passes, however much is already committed.
 */
export function enoughMemory(bytes: number): boolean {
  return bytes / PAGE_SIZE <= Math.floor(hostTotalMem() / PAGE_SIZE);
}
