// Memory protection keys (Linux mm/mprotect.c): the sandbox offers none — the keys live in
// the host's page tables and PKRU, which the sentry does not manage — so pkey_alloc says
// EINVAL, as Linux does on a CPU without keys (its man page says ENOSPC; the kernel checks
// arch_pkeys_enabled first), pkey_free of anything is EINVAL, and pkey_mprotect with key -1
// is mprotect.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL } from '../../abi/linux/errno';
import { SYS_pkey_alloc, SYS_pkey_free, SYS_pkey_mprotect } from '../../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallTable } from './types';

/** Bad flags or rights are EINVAL, and so is every valid request: there are no keys. */
function sysPkeyAlloc(_t: Task, _a: SyscallArgs): number {
  fail(EINVAL);
}

function sysPkeyMprotect(t: Task, a: SyscallArgs): number {
  if (a.int(3) !== -1) fail(EINVAL);
  t.mm.mprotect(a.ptr(0), a.size(1), a.int(2));
  return 0;
}

export function registerPkey(table: SyscallTable): void {
  table[SYS_pkey_alloc] = { name: 'pkey_alloc', handler: sysPkeyAlloc, args: ['hex', 'hex'] };
  table[SYS_pkey_free] = { name: 'pkey_free', handler: () => fail(EINVAL), args: ['int'] };
  table[SYS_pkey_mprotect] = { name: 'pkey_mprotect', handler: sysPkeyMprotect, args: ['ptr', 'size', 'prot', 'int'] };
}
