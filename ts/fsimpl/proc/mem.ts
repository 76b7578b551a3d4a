// /proc/<pid>/mem (Linux fs/proc/base.c mem_open/mem_rw/mem_lseek): the process's memory,
// read and written at file offset = address, as a debugger does. Opening needs what
// PTRACE_ATTACH needs (ptrace_may_access): the same ids and a dumpable target, or
// CAP_SYS_PTRACE. The open file holds the address space it was opened on: once that is gone
// (exit, execve) reads return 0. Holes are EIO; mm/remote_access.ts keeps every access
// inside the application's mappings.

import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { CAP_SYS_PTRACE } from '../../kernel/capabilities';
import { EACCES, EINVAL, EIO, ENOENT } from '../../abi/linux/errno';
import { SEEK_CUR, SEEK_SET } from '../../abi/linux/fcntl';
import { S_IFREG } from '../../abi/linux/stat';
import type { MemoryManager } from '../../mm/memory_manager';
import { readRemote, writeRemote } from '../../mm/remote_access';
import type { FileDescription } from '../../vfs/file_description';
import { VfsFile } from '../../vfs/vfs_file';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import { taskAttrs } from '../../syscalls/linux/task_attrs';
import { KInode, type KAttr } from '../kernfs/inode';
import type { KernFS } from '../kernfs/kernfs';

const SUID_DUMP_USER = 1;

/** ptrace_may_access(PTRACE_MODE_ATTACH_FSCREDS). */
export function mayPtraceAttach(t: Task, target: Task): boolean {
  if (t.tg === target.tg) return true;
  const c = t.creds, tc = target.creds;
  const sameIds = c.fsuid === tc.uid && c.fsuid === tc.euid && c.fsuid === tc.suid &&
    c.fsgid === tc.gid && c.fsgid === tc.egid && c.fsgid === tc.sgid;
  if (!sameIds && !c.hasCapability(CAP_SYS_PTRACE)) return false;
  return taskAttrs(target).dumpable === SUID_DUMP_USER || c.hasCapability(CAP_SYS_PTRACE);
}

/** proc_mem_open's check (mem, pagemap): the task still there and the opener allowed to
 *  trace it. */
export function accessedTask(t: Task | null, task: () => Task | undefined): Task {
  const target = task();
  if (!target) throw new SyscallError(ENOENT);
  if (!t || !mayPtraceAttach(t, target)) throw new SyscallError(EACCES);
  return target;
}

export class MemInode extends KInode {
  constructor(fs: KernFS, key: string, private readonly task: () => Task | undefined, attr: KAttr) {
    super(fs, key, S_IFREG | 0o600, attr);
  }

  open(t: Task | null, vd: VirtualDentry, flags: number): FileDescription {
    return new MemFile(flags, vd, accessedTask(t, this.task).mm);
  }
}

class MemFile extends VfsFile {
  override readonly seekable = true;
  private pos = 0;

  constructor(flags: number, vd: VirtualDentry, private readonly mm: MemoryManager) {
    super(flags, vd);
  }

  private rw(buf: Uint8Array, offset: number, write: boolean): number {
    if (this.mm.isReleased || buf.length === 0) return 0;
    const addr = offset >= 0 ? offset : this.pos;
    const n = write ? writeRemote(this.mm, addr, buf) : readRemote(this.mm, addr, buf);
    if (n === 0) throw new SyscallError(EIO);
    if (offset < 0) this.pos += n;
    return n;
  }

  override read(_t: Task, dst: Uint8Array, offset: number): number { return this.rw(dst, offset, false); }

  override write(_t: Task, src: Uint8Array, offset: number): number { return this.rw(src, offset, true); }

  override lseek(offset: number, whence: number): number {
    this.pos = memLseek(this.pos, offset, whence);
    return this.pos;
  }
}

/** mem_lseek (mem, pagemap): SEEK_SET and SEEK_CUR only; the new position. */
export function memLseek(pos: number, offset: number, whence: number): number {
  const next = whence === SEEK_SET ? offset : whence === SEEK_CUR ? pos + offset : -1;
  if (next < 0 || !Number.isSafeInteger(next)) throw new SyscallError(EINVAL);
  return next;
}
