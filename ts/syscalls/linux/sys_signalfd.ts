// signalfd, signalfd4 (Linux fs/signalfd.c) over kernel/signalfd.ts: a new signalfd for
// fd -1, else a new mask for an existing one. SIGKILL and SIGSTOP are never in the mask.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL } from '../../abi/linux/errno';
import { O_CLOEXEC, O_NONBLOCK } from '../../abi/linux/fcntl';
import { SIGSET_SIZE, UNBLOCKABLE } from '../../abi/linux/signal';
import { SYS_signalfd, SYS_signalfd4 } from '../../abi/linux/syscall_numbers';
import { SignalFd } from '../../kernel/signalfd';
import type { SyscallArgs, SyscallTable } from './types';
import { getFile, nofileLimit } from './fd_util';

const SFD_CLOEXEC = O_CLOEXEC, SFD_NONBLOCK = O_NONBLOCK;

function doSignalfd(t: Task, a: SyscallArgs, flags: number): number {
  const ufd = a.int(0);
  if (a.size(2) !== SIGSET_SIZE) fail(EINVAL);
  const mask = t.mm.readU64(a.ptr(1)) & ~UNBLOCKABLE;
  if ((flags & ~(SFD_CLOEXEC | SFD_NONBLOCK)) !== 0) fail(EINVAL);
  if (ufd !== -1) {
    const f = getFile(t, ufd);
    if (!(f instanceof SignalFd)) fail(EINVAL);
    f.setMask(mask);
    return ufd;
  }
  const f = new SignalFd(t, mask, flags);
  try {
    return t.fdTable.newFD(f, { cloexec: (flags & SFD_CLOEXEC) !== 0, limit: nofileLimit(t) });
  } finally {
    f.decRef();
  }
}

export function registerSignalfd(table: SyscallTable): void {
  table[SYS_signalfd] = { name: 'signalfd', handler: (t, a) => doSignalfd(t, a, 0), args: ['fd', 'ptr', 'size'] };
  table[SYS_signalfd4] = {
    name: 'signalfd4', handler: (t, a) => doSignalfd(t, a, a.int(3)), args: ['fd', 'ptr', 'size', 'hex'],
  };
}
