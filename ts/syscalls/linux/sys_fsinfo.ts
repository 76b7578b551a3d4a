// ustat and sysfs (Linux fs/statfs.c, fs/filesystems.c): the old calls for a mounted file
// system's free counts by device number, and for the registered file system types by index.

import type { Task } from '../../kernel/task';
import type { SyscallArgs, SyscallTable } from './types';
import { SYS_sysfs, SYS_ustat } from '../../abi/linux/syscall_numbers';
import { EINVAL } from '../../abi/linux/errno';
import { fail } from '../../kernel/syscall_error';
import { resolveContext } from '../../vfs/task_fs';
import { FILESYSTEM_TYPES } from '../../fsimpl/filesystems';

/** struct ustat: f_tfree (int), f_tinode (ino_t at 8), f_fname[6], f_fpack[6]. */
const USTAT_SIZE = 32;
const PATH_MAX = 4096;

function sysUstat(t: Task, a: SyscallArgs): number {
  const dev = a.uint(0);
  const m = resolveContext(t).ns.mounts().find((x) => x.fs.dev === dev);
  if (m === undefined) fail(EINVAL);
  const s = m.fs.statfs();
  const b = new Uint8Array(USTAT_SIZE);
  const v = new DataView(b.buffer);
  v.setInt32(0, s.bfree | 0, true);
  v.setBigUint64(8, BigInt(Math.max(0, Math.floor(s.ffree))), true);
  t.mm.copyOut(a.ptr(1), b);
  return 0;
}

function sysSysfs(t: Task, a: SyscallArgs): number {
  switch (a.int(0)) {
    case 1: {
      const name = t.mm.readCString(a.ptr(1), PATH_MAX);
      const i = FILESYSTEM_TYPES.findIndex((f) => f.name === name);
      if (i < 0) fail(EINVAL);
      return i;
    }
    case 2: {
      const fs = FILESYSTEM_TYPES[a.uint(1)];
      if (fs === undefined) fail(EINVAL);
      t.mm.copyOut(a.ptr(2), new TextEncoder().encode(`${fs.name}\0`));
      return 0;
    }
    case 3: return FILESYSTEM_TYPES.length;
    default: fail(EINVAL);
  }
}

export function registerFsInfo(table: SyscallTable): void {
  table[SYS_ustat] = { name: 'ustat', handler: sysUstat, args: ['hex', 'ptr'] };
  table[SYS_sysfs] = { name: 'sysfs', handler: sysSysfs, args: ['int', 'hex', 'ptr'] };
}
