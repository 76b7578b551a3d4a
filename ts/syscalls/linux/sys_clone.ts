// clone, clone3, fork, vfork (Linux kernel/fork.c): argument decoding and the clone3
// struct's checks; kernel/clone.ts does the work.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { E2BIG, EBADF, EINVAL, ENOENT } from '../../abi/linux/errno';
import { getFile } from './fd_util';
import { VfsFile } from '../../vfs/vfs_file';
import { CgroupDir } from '../../fsimpl/cgroupfs/cgroupfs';
import { type Cgroup, cgroupOf } from '../../kernel/cgroup/cgroup';
import { checkAttach } from '../../kernel/cgroup/cgroup_ops';
import { SIGCHLD, validSignal } from '../../abi/linux/signal';
import { SYS_clone, SYS_clone3, SYS_fork, SYS_vfork } from '../../abi/linux/syscall_numbers';
import {
  CLONE_DETACHED, CLONE_PARENT_SETTID, CLONE_PIDFD, CLONE_THREAD, CLONE_VFORK, CLONE_VM, CSIGNAL, doClone,
} from '../../kernel/clone';
import type { SyscallArgs, SyscallReturn, SyscallTable } from './types';
import { accessOk } from './user_io';
import { CLONE_NEWTIME } from '../../kernel/ns/kinds';

/** struct clone_args sizes: version 0 (no set_tid), 1 (set_tid), 2 (cgroup). */
const CLONE_ARGS_SIZE_VER0 = 64;
const PAGE_SIZE = 4096;
const CLONE_CLEAR_SIGHAND = 0x1_0000_0000n;
const CLONE_INTO_CGROUP = 0x2_0000_0000n;
const MAX_PID_NS_LEVEL = 32n;
const CLONE_LEGACY_FLAGS = 0xffff_ffffn;

/** clone(flags, newsp, parent_tid, child_tid, tls): the x86-64 argument order. */
function sysClone(t: Task, a: SyscallArgs): SyscallReturn {
  const flags = a.uint(0);
  // The pidfd goes where the parent's tid would: the two cannot be asked for together.
  if ((flags & CLONE_PIDFD) !== 0 && (flags & CLONE_PARENT_SETTID) !== 0) fail(EINVAL);
  return doClone(t, {
    flags: flags & ~CSIGNAL, clearSighand: false, exitSignal: flags & CSIGNAL,
    stack: a.ptr(1), parentTid: a.ptr(2), childTid: a.ptr(3), tls: a.u64(4), pidfd: a.ptr(2),
  });
}

function sysFork(t: Task): SyscallReturn {
  return doClone(t, { flags: 0, clearSighand: false, exitSignal: SIGCHLD, stack: 0, parentTid: 0, childTid: 0, tls: 0n });
}

function sysVfork(t: Task): SyscallReturn {
  return doClone(t, {
    flags: CLONE_VFORK | CLONE_VM, clearSighand: false, exitSignal: SIGCHLD, stack: 0, parentTid: 0, childTid: 0, tls: 0n,
  });
}

/** copy_clone_args_from_user + clone3_args_valid. */
function sysClone3(t: Task, a: SyscallArgs): SyscallReturn {
  const addr = a.ptr(0);
  const size = a.size(1);
  if (size > PAGE_SIZE) fail(E2BIG);
  if (size < CLONE_ARGS_SIZE_VER0) fail(EINVAL);
  const raw = t.mm.copyIn(addr, size);
  const v = new DataView(raw.buffer);
  const known = 88;
  // A larger struct from a newer C library is fine if what we do not know is zero.
  for (let i = known; i < size; i++) if (raw[i] !== 0) fail(E2BIG);
  const field = (i: number): bigint => (i * 8 + 8 <= size ? v.getBigUint64(i * 8, true) : 0n);
  const flags = field(0);
  const pidfd = field(1), childTid = field(2), parentTid = field(3), exitSignal = field(4);
  const stack = field(5), stackSize = field(6), tls = field(7), setTid = field(8), setTidSize = field(9);
  const cgroup = field(10);
  if (setTidSize > MAX_PID_NS_LEVEL) fail(EINVAL);
  if (setTid === 0n && setTidSize > 0n) fail(EINVAL);
  if (setTid !== 0n && setTidSize === 0n) fail(EINVAL);
  if ((exitSignal & ~BigInt(CSIGNAL)) !== 0n || (exitSignal !== 0n && !validSignal(Number(exitSignal)))) fail(EINVAL);
  if ((flags & CLONE_INTO_CGROUP) !== 0n && cgroup > 0x7fff_ffffn) fail(EINVAL);
  const tids = setTid === 0n ? [] : [...new Int32Array(t.mm.copyIn(Number(setTid), Number(setTidSize) * 4).slice().buffer)];
  if ((flags & ~(CLONE_LEGACY_FLAGS | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP)) !== 0n) fail(EINVAL);
  // clone3_args_valid: CSIGNAL's bits are flags here, of which only CLONE_NEWTIME exists.
  if ((flags & BigInt(CLONE_DETACHED | (CSIGNAL & ~CLONE_NEWTIME))) !== 0n) fail(EINVAL);
  // clone3_stack_valid: both or neither, and inside user space.
  if (stack === 0n) {
    if (stackSize !== 0n) fail(EINVAL);
  } else if (stackSize === 0n || !accessOk(Number(stack), Number(stackSize))) {
    fail(EINVAL);
  }
  const intoCgroup = (flags & CLONE_INTO_CGROUP) !== 0n
    ? cgroupForClone(t, Number(cgroup), (flags & BigInt(CLONE_THREAD)) === 0n) : undefined;
  return doClone(t, {
    flags: Number(flags & CLONE_LEGACY_FLAGS), clearSighand: (flags & CLONE_CLEAR_SIGHAND) !== 0n,
    exitSignal: Number(exitSignal), stack: stack === 0n ? 0 : Number(stack + stackSize),
    parentTid: Number(parentTid), childTid: Number(childTid), tls, pidfd: Number(pidfd), setTid: tids, intoCgroup,
  });
}

/** cgroup_css_set_fork: CLONE_INTO_CGROUP's fd must be a cgroup2 directory (EBADF), of a
 *  cgroup still there (ENOENT, css_tryget_online_from_dir), that the caller may move the
 *  child into. */
function cgroupForClone(t: Task, fd: number, threadgroup: boolean): Cgroup {
  const f = getFile(t, fd);
  const inode = f instanceof VfsFile ? f.inode : null;
  if (!(inode instanceof CgroupDir)) fail(EBADF);
  if (inode.cg.removed) fail(ENOENT);
  checkAttach(t, cgroupOf(t.kernel, t.tg), inode.cg, threadgroup);
  return inode.cg;
}

export function registerClone(table: SyscallTable): void {
  table[SYS_clone] = { name: 'clone', handler: sysClone, args: ['hex', 'ptr', 'ptr', 'ptr', 'hex'] };
  table[SYS_clone3] = { name: 'clone3', handler: sysClone3, args: ['ptr', 'size'] };
  table[SYS_fork] = { name: 'fork', handler: sysFork, args: [] };
  table[SYS_vfork] = { name: 'vfork', handler: sysVfork, args: [] };
}
