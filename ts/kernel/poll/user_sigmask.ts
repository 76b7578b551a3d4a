// The temporary signal mask of ppoll, pselect6 and epoll_pwait (Linux set_user_sigmask and
// restore_saved_sigmask_unless). The mask is installed for the call, the old one kept in
// Task.savedMask. If the call ends because of a signal, the old mask stays saved: signal
// delivery puts it in the handler's frame (so the handler runs under the temporary mask and
// sigreturn restores the old one) or restores it itself. Otherwise it is restored here.

import type { Task } from '../task';
import { SyscallError, fail } from '../syscall_error';
import { EINVAL } from '../../abi/linux/errno';
import { SIGSET_SIZE, UNBLOCKABLE } from '../../abi/linux/signal';
import type { SyscallReturn } from '../../syscalls/linux/types';

/** Read the sigset at addr (if any) and install it; EINVAL for a size other than 8. */
export function setUserSigmask(t: Task, addr: number, size: number): boolean {
  if (addr === 0) return false;
  if (size !== SIGSET_SIZE) fail(EINVAL);
  const mask = t.mm.readU64(addr) & ~UNBLOCKABLE;
  t.savedMask = t.sigMask;
  t.sigMask = mask;
  return true;
}

function restore(t: Task): void {
  if (t.savedMask === null) return;
  t.sigMask = t.savedMask;
  t.savedMask = null;
}

/** Run the call under the mask installed by setUserSigmask (when `installed`), restoring
 *  the old mask afterwards unless the call failed with `interrupted` (its signal's errno). */
export function withUserSigmask(t: Task, installed: boolean, interrupted: number,
  run: () => SyscallReturn): SyscallReturn {
  if (!installed) return run();
  const settle = (e: unknown): never => {
    if (!(e instanceof SyscallError && e.errno === interrupted)) restore(t);
    throw e;
  };
  let r: SyscallReturn;
  try {
    r = run();
  } catch (e) {
    return settle(e);
  }
  if (typeof r === 'number' || typeof r === 'bigint') {
    restore(t);
    return r;
  }
  return r.then((v) => { restore(t); return v; }, settle);
}
