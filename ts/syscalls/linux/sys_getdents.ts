// getdents, getdents64 (Linux fs/readdir.c): as many whole entries as fit in the buffer,
// EINVAL if not even one does, 0 at the end. A file that is not a directory is ENOTDIR.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EBADF, EFAULT, EINVAL, ENOTDIR } from '../../abi/linux/errno';
import { O_PATH } from '../../abi/linux/fcntl';
import { SYS_getdents, SYS_getdents64 } from '../../abi/linux/syscall_numbers';
import { DirectoryFile } from '../../vfs/directory_file';
import type { SyscallArgs, SyscallTable } from './types';
import { getFile } from './fd_util';
import { accessOk } from './user_io';
import { fsnotifyAccess } from '../../vfs/fsnotify';
import { stringBytes } from '../../abi/byte_string';

function align8(n: number): number { return (n + 7) & ~7; }

function getdents(t: Task, a: SyscallArgs, wide: boolean): number {
  const f = getFile(t, a.int(0));
  if (f.flags & O_PATH) fail(EBADF);
  if (!(f instanceof DirectoryFile)) fail(ENOTDIR);
  const addr = a.ptr(1);
  // The kernel keeps the count as an int: a negative one fits no entry (EINVAL). The buffer
  // is checked only when an entry is written to it, so the end of a directory is 0 whatever
  // the buffer.
  const count = Math.max(0, Math.min(a.int(2), 1 << 20));
  const out = new Uint8Array(count);
  const v = new DataView(out.buffer);
  let used = 0;
  let taken = 0;
  const ends: number[] = [];
  const base = f.position;
  for (const e of f.pending()) {
    const name = stringBytes(e.name);
    const reclen = wide ? align8(19 + name.length + 1) : align8(18 + name.length + 2);
    if (used + reclen > count) break;
    const off = base + taken + 1;
    v.setBigUint64(used, BigInt(e.ino), true);
    v.setBigInt64(used + 8, BigInt(off), true);
    v.setUint16(used + 16, reclen, true);
    if (wide) {
      out[used + 18] = e.type;
      out.set(name, used + 19);
    } else {
      out.set(name, used + 18);
      out[used + reclen - 1] = e.type;
    }
    used += reclen;
    taken++;
    ends.push(used);
  }
  if (taken === 0 && f.pending().length > 0) fail(EINVAL);
  if (used > 0) {
    if (!accessOk(addr, used)) fail(EFAULT);
    try {
      t.mm.copyOut(addr, out.subarray(0, used));
    } catch (e) {
      // filldir writes entry by entry: a fault ends the call, which returns the entries
      // already written (EFAULT only if there are none) and moves past them alone.
      taken = copyOutWhole(t, addr, out, ends);
      if (taken === 0) throw e;
      used = ends[taken - 1];
    }
  }
  f.advance(taken);
  // Linux iterate_dir reports every successful call, even one at the end.
  fsnotifyAccess(f, used, true);
  return used;
}

/** How many whole entries (ending at `ends`) fit in writable memory at addr. */
function copyOutWhole(t: Task, addr: number, out: Uint8Array, ends: number[]): number {
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    try {
      t.mm.copyOut(addr + start, out.subarray(start, ends[i]));
    } catch {
      return i;
    }
    start = ends[i];
  }
  return ends.length;
}

export function registerGetdents(table: SyscallTable): void {
  table[SYS_getdents] = { name: 'getdents', handler: (t, a) => getdents(t, a, false), args: ['fd', 'ptr', 'uint'] };
  table[SYS_getdents64] = { name: 'getdents64', handler: (t, a) => getdents(t, a, true), args: ['fd', 'ptr', 'uint'] };
}
