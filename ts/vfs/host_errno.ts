// Host errors to Linux errnos. Node reports a failed host syscall as an Error whose `errno`
// is the negated errno (libuv's UV_E* on Linux) and whose `code` is the errno name; the addon
// as an Error whose message starts with the errno name.

import { SyscallError } from '../kernel/syscall_error';
import { EAGAIN, errnoNumber } from '../abi/linux/errno';
import { errnoOfNative } from '../native/addon';

/** The Linux errno behind a Node host-call error, or 0 if it is not one. */
export function hostErrno(e: unknown): number {
  if (e instanceof SyscallError) return e.errno;
  if (e instanceof Error && 'errno' in e && typeof e.errno === 'number') return Math.abs(e.errno);
  const name = errnoOfNative(e);
  return name ? errnoNumber(name) : 0;
}

/** Rethrow a host-call error as the SyscallError the application should see; anything that
 *  is not a host errno is a sentry bug and propagates unchanged. */
export function throwHostError(e: unknown): never {
  const errno = hostErrno(e);
  if (errno === 0) throw e;
  throw new SyscallError(errno);
}

export function isEAGAIN(e: unknown): boolean {
  return hostErrno(e) === EAGAIN;
}
