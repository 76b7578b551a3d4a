// A synchronous 9P request the server does not answer in time (a FUSE or NFS mount below a
// gofer tree that stalls a lookup) may be left in flight instead of blocking the sentry's
// thread, when the gate says so (ts/vfs/host_wait.ts: inside the syscalls that only look
// things up), when the rest of its batch is answered already (a batch with requests still on
// the way is waited for, blocking). The client then gives up the caller's requests: their
// replies are dropped once the caller's synchronous run is over, the fid a walk among them
// made is clunked then (never reused before), and nothing new goes out in the run but
// clunks. The caller sees EAGAIN and its task waits for `done`.

import * as m from './messages';

export interface StallGate {
  /** How long a request may keep the sentry waiting now; null: until it is answered. */
  limitMs(): number | null;
  /** Has the attempt running now left a request (the rest of it is void)? */
  voided(): boolean;
  /** A request was left: done settles once its reply (or Rflush) came; flush asks the server
   *  to drop it (the waiting task was interrupted). */
  left(done: Promise<void>, flush: () => void): void;
  /** A request that may change the host goes out: nothing after it in the attempt may be
   *  left (the retry would change it again). */
  changed(): void;
  /** How long the reply to a change may keep the sentry waiting now; null: until it comes. */
  changeLimitMs(): number | null;
  /** A change was not answered within changeLimitMs: reply settles with its reply's fields
   *  (or error), flush asks the server to drop it. Throws what makes the syscall wait for
   *  it (vfs/change_wait.ts). */
  changeLeft(reply: Promise<unknown>, flush: () => void): never;
}

/** The replies of requests that change nothing on the host (but for a walk's new fid and an
 *  open's, which the client clunks): only these may be left. */
export const LEAVABLE: ReadonlySet<number> = new Set([
  m.Rwalk, m.Rwalkgetattr, m.Rgetattr, m.Rreaddir, m.Rreaddirattr, m.Rreadlink, m.Rstatfs, m.Rlopen,
]);

/** Does a request of this type change the host (or may it: anything whose reply may not be
 *  left, but for clunks and flushes, which the client sends whatever happens)? */
export function mayChange(type: number): boolean {
  return !LEAVABLE.has(type + 1) && type !== m.Tclunk && type !== m.Tflush;
}
