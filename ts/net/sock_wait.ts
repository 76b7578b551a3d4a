// Socket sleeps (Linux sock_rcvtimeo/sock_sndtimeo, sock_intr_errno): a blocking socket call
// waits with the socket's timeout, which one deadline carries across the call's retries.
// Running out is EAGAIN; a signal is ERESTARTSYS when the wait had no timeout (the call may
// restart) and EINTR when it had one, as Linux does.

import type { Task } from '../kernel/task';
import { block } from '../kernel/blocking';
import { fail } from '../kernel/syscall_error';
import { EAGAIN, EINTR } from '../abi/linux/errno';

export class Deadline {
  private readonly end: bigint | null;
  /** timeo: ns to wait in all, null for no limit, 0 for "do not wait" (non-blocking). */
  constructor(readonly timeo: bigint | null) {
    this.end = timeo === null ? null : process.hrtime.bigint() + timeo;
  }

  get nonblocking(): boolean { return this.timeo === 0n; }

  /** Wait until wake is called by the subscription, the deadline, or a signal. */
  wait(t: Task, subscribe: (wake: () => void) => () => void): Promise<void> {
    if (this.end === null) return block<void>(t, (wake) => subscribe(() => wake()));
    const left = this.end - process.hrtime.bigint();
    if (left <= 0n) fail(EAGAIN);
    return block<boolean>(t, (wake) => subscribe(() => wake(false)), { restart: EINTR, timeoutNs: left }, () => true)
      .then((timedOut) => { if (timedOut) fail(EAGAIN); });
  }
}

