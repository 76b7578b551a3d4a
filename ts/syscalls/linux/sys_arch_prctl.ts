// arch_prctl (Linux arch/x86/kernel/process_64.c): the FS and GS base registers (thread
// pointer) and the CPUID-faulting switch.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, ENODEV, EPERM } from '../../abi/linux/errno';
import {
  ARCH_GET_CPUID, ARCH_GET_FS, ARCH_GET_GS, ARCH_SET_CPUID, ARCH_SET_FS, ARCH_SET_GS,
} from '../../abi/linux/prctl';
import { SYS_arch_prctl } from '../../abi/linux/syscall_numbers';
import { REG_FS_BASE, REG_GS_BASE } from '../../native/addon';
import { unpatchSyscalls } from '../../platform/syscall_patch';
import type { SyscallArgs, SyscallTable } from './types';
import { TASK_SIZE_MAX } from './user_io';

function sysArchPrctl(t: Task, a: SyscallArgs): number {
  const code = a.int(0);
  const addr = a.u64(1);
  switch (code) {
    case ARCH_SET_FS:
    case ARCH_SET_GS:
      // A base at or above TASK_SIZE_MAX could be non-canonical and fault on return.
      if (addr >= BigInt(TASK_SIZE_MAX)) fail(EPERM);
      // Patched syscall sites find the stub's message through %gs: give them up first.
      if (code === ARCH_SET_GS && addr !== 0n) unpatchSyscalls(t.mm);
      t.regs[code === ARCH_SET_FS ? REG_FS_BASE : REG_GS_BASE] = addr;
      return 0;
    case ARCH_GET_FS:
    case ARCH_GET_GS:
      t.mm.writeU64(a.ptr(1), t.regs[code === ARCH_GET_FS ? REG_FS_BASE : REG_GS_BASE]);
      return 0;
    case ARCH_GET_CPUID:
      return 1; // CPUID does not fault.
    case ARCH_SET_CPUID:
      // No platform here can make CPUID fault: Linux's answer without X86_FEATURE_CPUID_FAULT.
      fail(ENODEV);
    default:
      fail(EINVAL);
  }
}

export function registerArchPrctl(table: SyscallTable): void {
  table[SYS_arch_prctl] = { name: 'arch_prctl', handler: sysArchPrctl, args: ['hex', 'hex'] };
}
