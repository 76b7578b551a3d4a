// A syscall handler that fails throws SyscallError(errno); the dispatcher turns it into -errno.
// Throwing keeps the success path of every handler free of error plumbing; errors are rare
// per call but not per program (gcc hello fails ~850 syscalls, a python3 start ~1,500), so
// the error records no stack trace: V8 walking the sentry's stack cost ~10 µs a throw, and
// nothing reads a SyscallError's stack.

import { EINTR, ERESTARTNOHAND, ERESTARTNOINTR, ERESTARTSYS, ERESTART_RESTARTBLOCK } from '../abi/linux/errno';

export class SyscallError extends Error {
  readonly errno: number;

  constructor(errno: number, message?: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message ?? `errno ${errno}`);
    Error.stackTraceLimit = limit;
    this.errno = errno;
  }
}

export function fail(errno: number): never {
  throw new SyscallError(errno);
}

/** A request that completes apart from its syscall (an AIO event, an io_uring CQE): its error
 *  as -errno, a wait cut short by a signal being EINTR, since nothing restarts it. Anything
 *  but a SyscallError is rethrown. */
export function completionErrno(e: unknown): number {
  if (!(e instanceof SyscallError)) throw e;
  const restart = e.errno === ERESTARTSYS || e.errno === ERESTARTNOINTR || e.errno === ERESTARTNOHAND ||
    e.errno === ERESTART_RESTARTBLOCK;
  return -(restart ? EINTR : e.errno);
}
