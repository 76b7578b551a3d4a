// A syscall handler that fails throws SyscallError(errno); the dispatcher turns it into -errno.
// Throwing keeps the success path of every handler free of error plumbing; errors are rare.

export class SyscallError extends Error {
  constructor(public readonly errno: number, message?: string) {
    super(message ?? `errno ${errno}`);
  }
}

export function fail(errno: number): never {
  throw new SyscallError(errno);
}
