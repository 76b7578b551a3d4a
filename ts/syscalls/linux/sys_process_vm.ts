// process_vm_readv, process_vm_writev (Linux mm/process_vm_access.c): copy between the
// caller's memory and another process's, through each one's MemoryManager. Permission is
// ptrace's (kernel/ptrace_access.ts). A fault on either side ends the transfer there: the
// bytes moved so far are the result, EFAULT if none were.

import type { Task } from '../../kernel/task';
import { SyscallError, fail } from '../../kernel/syscall_error';
import { EFAULT, EINVAL, EPERM, ESRCH } from '../../abi/linux/errno';
import { SYS_process_vm_readv, SYS_process_vm_writev } from '../../abi/linux/syscall_numbers';
import type { MemoryManager } from '../../mm/memory_manager';
import { ptraceMayAccess } from '../../kernel/ptrace_access';
import type { SyscallArgs, SyscallTable } from './types';
import { copyInIovecs, type IOVec } from './user_io';
import { findTask } from '../../kernel/ns/pid_ns';

/** Both lists are walked in step, a byte stream from `src` segments to `dst` segments. */
function transfer(srcMm: MemoryManager, src: IOVec[], dstMm: MemoryManager, dst: IOVec[]): number {
  let done = 0;
  let di = 0, doff = 0;
  for (const s of src) {
    let soff = 0;
    while (soff < s.len) {
      while (di < dst.length && doff === dst[di].len) { di++; doff = 0; }
      if (di === dst.length) return done;
      const n = Math.min(s.len - soff, dst[di].len - doff, 64 * 1024);
      let buf: Uint8Array;
      try {
        buf = srcMm.copyIn(s.base + soff, n);
        dstMm.copyOut(dst[di].base + doff, buf);
      } catch (e) {
        if (e instanceof SyscallError && e.errno === EFAULT) {
          if (done === 0) throw e;
          return done;
        }
        throw e;
      }
      soff += n;
      doff += n;
      done += n;
    }
  }
  return done;
}

function processVm(t: Task, a: SyscallArgs, write: boolean): number {
  const pid = a.int(0);
  if (a.u64(5) !== 0n) fail(EINVAL);
  const local = copyInIovecs(t, a.ptr(1), a.int(2));
  const remote = copyInIovecs(t, a.ptr(3), a.int(4));
  // Any task's id will do, a thread's too (find_get_task_by_vpid).
  const target = findTask(t, pid);
  if (target === undefined || target.exited) fail(ESRCH);
  if (!ptraceMayAccess(t, target.tg)) fail(EPERM);
  return write ? transfer(t.mm, local, target.mm, remote) : transfer(target.mm, remote, t.mm, local);
}

export function registerProcessVm(table: SyscallTable): void {
  table[SYS_process_vm_readv] = {
    name: 'process_vm_readv', handler: (t, a) => processVm(t, a, false), args: ['int', 'iovec', 'int', 'ptr', 'int', 'hex'],
  };
  table[SYS_process_vm_writev] = {
    name: 'process_vm_writev', handler: (t, a) => processVm(t, a, true), args: ['int', 'iovec', 'int', 'ptr', 'int', 'hex'],
  };
}
