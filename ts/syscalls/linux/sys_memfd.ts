// memfd_create (Linux mm/memfd.c): flags, then the name, then a file of fsimpl/tmpfs/memfd;
// memfd_secret (mm/secretmem.c), a file of fsimpl/tmpfs/secretmem.

import type { Task } from '../../kernel/task';
import { SyscallError, fail } from '../../kernel/syscall_error';
import { EINVAL, ENAMETOOLONG, ENODEV } from '../../abi/linux/errno';
import { hugePageSize } from '../../fsimpl/tmpfs/hugetlb_memfd';
import {
  MFD_ALLOW_SEALING, MFD_ALL_FLAGS, MFD_CLOEXEC, MFD_EXEC, MFD_HUGETLB, MFD_HUGE_BITS, MFD_NAME_MAX_LEN,
  MFD_NOEXEC_SEAL,
} from '../../abi/linux/memfd';
import { SYS_memfd_create, SYS_memfd_secret } from '../../abi/linux/syscall_numbers';
import { O_CLOEXEC } from '../../abi/linux/fcntl';
import { secretmemCreate } from '../../fsimpl/tmpfs/secretmem';
import { memfdCreate } from '../../fsimpl/tmpfs/memfd';
import type { SyscallArgs, SyscallTable } from './types';
import { nofileLimit } from './fd_util';

function sysMemfdCreate(t: Task, a: SyscallArgs): number {
  const flags = a.uint(1);
  const allowed = (flags & MFD_HUGETLB) !== 0 ? MFD_ALL_FLAGS | MFD_HUGE_BITS : MFD_ALL_FLAGS;
  if ((flags & ~allowed) !== 0) fail(EINVAL);
  if ((flags & MFD_EXEC) !== 0 && (flags & MFD_NOEXEC_SEAL) !== 0) fail(EINVAL);
  let name: string;
  try {
    name = t.mm.readCString(a.ptr(0), MFD_NAME_MAX_LEN + 1);
  } catch (e) {
    if (e instanceof SyscallError && e.errno === ENAMETOOLONG) fail(EINVAL);
    throw e;
  }
  // hugetlb_file_setup: a page size the CPU has (hugetlb_memfd.ts: no pool, so no data).
  let hugePageSizeBytes: number | undefined;
  if ((flags & MFD_HUGETLB) !== 0) hugePageSizeBytes = hugePageSize((flags >>> 26) & 0x3f) ?? fail(ENODEV);
  const f = memfdCreate(t, name, {
    hugePageSize: hugePageSizeBytes,
    allowSealing: (flags & MFD_ALLOW_SEALING) !== 0,
    noExec: (flags & MFD_NOEXEC_SEAL) !== 0,
  });
  try {
    return t.fdTable.newFD(f, { cloexec: (flags & MFD_CLOEXEC) !== 0, limit: nofileLimit(t) });
  } finally {
    f.decRef();
  }
}

/** memfd_secret (mm/secretmem.c): O_CLOEXEC is the one flag. */
function sysMemfdSecret(t: Task, a: SyscallArgs): number {
  const flags = a.uint(0);
  if ((flags & ~O_CLOEXEC) !== 0) fail(EINVAL);
  const f = secretmemCreate(t);
  try {
    return t.fdTable.newFD(f, { cloexec: (flags & O_CLOEXEC) !== 0, limit: nofileLimit(t) });
  } finally {
    f.decRef();
  }
}

export function registerMemfd(table: SyscallTable): void {
  table[SYS_memfd_create] = { name: 'memfd_create', handler: sysMemfdCreate, args: ['str', 'hex'] };
  table[SYS_memfd_secret] = { name: 'memfd_secret', handler: sysMemfdSecret, args: ['hex'] };
}
