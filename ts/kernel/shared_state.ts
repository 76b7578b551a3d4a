// Users counts of what clone can share between tasks: the MemoryManager (CLONE_VM: Linux
// mm_users) and the FDTable (CLONE_FILES: files_struct's count). The creator holds the first
// use; each sharer takes one more, and the last put releases the object.

import { exitAio } from './aio/aio_context';
import type { MemoryManager } from '../mm/memory_manager';
import type { FDTable } from '../vfs/fd_table';

const mmUsers = new WeakMap<MemoryManager, number>();
const fdTableUsers = new WeakMap<FDTable, number>();

export function getMM(mm: MemoryManager): void {
  mmUsers.set(mm, (mmUsers.get(mm) ?? 1) + 1);
}

export function putMM(mm: MemoryManager): void {
  const n = (mmUsers.get(mm) ?? 1) - 1;
  if (n > 0) {
    mmUsers.set(mm, n);
    return;
  }
  mmUsers.delete(mm);
  exitAio(mm);
  mm.release();
}

export function mmUserCount(mm: MemoryManager): number {
  return mmUsers.get(mm) ?? 1;
}

export function getFDTable(f: FDTable): void {
  fdTableUsers.set(f, (fdTableUsers.get(f) ?? 1) + 1);
}

export function putFDTable(f: FDTable): void {
  const n = (fdTableUsers.get(f) ?? 1) - 1;
  if (n > 0) {
    fdTableUsers.set(f, n);
    return;
  }
  fdTableUsers.delete(f);
  f.releaseAll();
}

export function fdTableShared(f: FDTable): boolean {
  return (fdTableUsers.get(f) ?? 1) > 1;
}

/** unshare_fd: a table shared with other tasks is replaced by the caller's own copy (unshare,
 *  execve, close_range's CLOSE_RANGE_UNSHARE). */
export function unshareFDTable(t: { fdTable: FDTable }): void {
  if (!fdTableShared(t.fdTable)) return;
  const old = t.fdTable;
  t.fdTable = old.fork();
  putFDTable(old);
}
