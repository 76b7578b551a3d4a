// Lookups the host makes wait. On a FUSE or NFS mount below a gofer tree a walk, getattr,
// readdir or readlink can stall for as long as the host pleases; the sentry waits for such a
// reply on its own thread (the lookup paths are synchronous), which would stop every task.
// Inside the syscalls that only look things up (ts/syscalls/linux/host_wait.ts wraps them),
// the 9P client leaves a request the gofer has not answered within the gate's limit
// (p9/stall_gate.ts) and the syscall fails for now; its task then sleeps, interruptibly,
// until that reply came, and runs the syscall again. Only sandboxes with a tree on such a
// file system have the gate (gofer_process.ts): local disks never take this path. A retry may wait twice as long as the host took the last
// time before leaving again, so a host that is slow but answers is waited out, not retried
// forever.

import type { StallGate } from '../p9/stall_gate';
import type { Task } from '../kernel/task';
import { ChangeWait } from './change_wait';

/** How long a lookup may block the sentry before its task waits instead (TSVISOR_HOST_WAIT_MS:
 *  0 leaves every lookup not answered at once, which the tests use to run the left path). */
export const HOST_WAIT_MS = hostWaitMs(process.env.TSVISOR_HOST_WAIT_MS);

function hostWaitMs(v: string | undefined): number {
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 && n <= 60_000 ? n : 100;
}
/** The most a retry lets a lookup block the sentry (a host that took long last time). */
export const HOST_WAIT_MAX_MS = 10_000;

/** The syscall attempt running now that may leave a request, and what it left. */
export interface HostWaitAttempt {
  limitMs: number;
  /** The first request left in this attempt: the task waits for it. */
  pending: { done: Promise<void>; flush: () => void } | null;
  /** Something changed in this attempt (a request that changes the host went out, or the
   *  syscall passed its point of no return): nothing after it may be left, or the retry
   *  would make the change again. */
  committed?: boolean;
  /** The syscall returns 0 once its change is made (syscalls/linux/host_wait.ts): a change
   *  the host does not answer in time may be waited for as a ChangeWait. */
  changes?: boolean;
}

let attempt: HostWaitAttempt | null = null;
/** Set once a gofer client has the gate: until then the wrapped syscalls cost nothing. */
let enabled = false;

export function hostWaitEnabled(): boolean { return enabled; }

/** The gate, for a client whose trees may block (the syscalls start taking attempts). */
export function enableHostWait(): StallGate {
  enabled = true;
  return hostWaitGate;
}
/** Nesting depth of withoutHostWait: a lookup made after a change (the walk to a file just
 *  created) must not be left, or the retry would do the change again. */
let forbidden = 0;

export const hostWaitGate: StallGate = {
  limitMs(): number | null {
    if (attempt === null || forbidden > 0 || attempt.committed === true) return null;
    return attempt.pending !== null ? 0 : attempt.limitMs;
  },
  voided(): boolean {
    return attempt !== null && attempt.pending !== null;
  },
  left(done: Promise<void>, flush: () => void): void {
    if (attempt !== null && attempt.pending === null) attempt.pending = { done, flush };
  },
  changed: commitHostWait,
  changeLimitMs(): number | null {
    if (attempt === null || forbidden > 0 || attempt.changes !== true || attempt.pending !== null) return null;
    return attempt.limitMs;
  },
  changeLeft(reply: Promise<unknown>, flush: () => void): never {
    throw new ChangeWait(reply, flush);
  },
};

/** The syscall running now changed something (its point of no return): from here on its
 *  lookups wait for their replies, blocking, as withoutHostWait's. */
export function commitHostWait(): void {
  if (attempt !== null) attempt.committed = true;
}

/** Runs f as one attempt of a syscall that may leave requests; restores the outer one. */
export function asHostWaitAttempt<T>(a: HostWaitAttempt, f: () => T): T {
  const outer = attempt;
  attempt = a;
  try { return f(); } finally { attempt = outer; }
}

/** f, a change made for t outside the syscalls that wait for theirs (a write's set-id
 *  removal): its reply, not come within the limit, is waited for by t as a ChangeWait. */
export function changeBy(t: Task, f: () => void): void | Promise<unknown> {
  if (!enabled) return f();
  try {
    asHostWaitAttempt({ limitMs: HOST_WAIT_MS, pending: null, changes: true, committed: true }, f);
  } catch (e) {
    if (e instanceof ChangeWait) return e.wait(t);
    throw e;
  }
}

/** f's requests are waited for, blocking, whatever the syscall around it. */
export function withoutHostWait<T>(f: () => T): T {
  forbidden++;
  try { return f(); } finally { forbidden--; }
}
