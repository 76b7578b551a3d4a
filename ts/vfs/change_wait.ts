// A change the host has not answered yet (a Tmkdir, Tunlinkat, Tsetattr... on a FUSE or NFS
// tree that stalls it). Its request is out and cannot be taken back without the server's
// word, and the syscall cannot run again from the start (the change would be made twice, and
// its lookups would see the changed tree): so instead of blocking the sentry's thread for the
// reply, the gate (host_wait.ts) throws a ChangeWait carrying the rest of the syscall. Each
// frame with work left after the change (the file system's bookkeeping, the dentry cache,
// fsnotify) adds it with afterChange; the syscall wrapper (syscalls/linux/host_wait.ts)
// catches it, the task waits for the reply interruptibly while the other tasks run, and the
// rest runs then. A signal first flushes the request: a reply that still beats the Rflush
// means the change was made, and the syscall ends as if no signal came; otherwise as the
// interrupted wait says (EINTR or a restart). Only death stops that second wait: the rest
// then still runs when the reply comes (the caches must follow the host).

import type { Task } from '../kernel/task';
import { block } from '../kernel/blocking';
import { SyscallError } from '../kernel/syscall_error';
import { EIO } from '../abi/linux/errno';

type Outcome = { ok: unknown } | { err: unknown };

function settle(p: Promise<unknown>): Promise<Outcome> {
  return p.then((ok) => ({ ok }), (err: unknown) => ({ err }));
}

export class ChangeWait extends Error {
  constructor(
    private readonly reply: Promise<unknown>,
    private readonly flush: () => void,
    private readonly rest: (v: unknown) => unknown = (v) => v,
  ) {
    super('a change waits for the host');
  }

  /** The same wait with k run on what the rest so far gives. */
  andThen(k: (v: unknown) => unknown): ChangeWait {
    const rest = this.rest;
    return new ChangeWait(this.reply, this.flush, (v) => k(rest(v)));
  }

  /** t waits for the reply; then the rest runs, and its value (or error) is the wait's. */
  async wait(t: Task): Promise<unknown> {
    const got = settle(this.reply);
    let out: Outcome;
    try {
      out = await block<Outcome>(t, (wake) => { got.then(wake, () => wake({ err: new SyscallError(EIO) })); return () => {}; });
    } catch (interrupted) {
      this.flush();
      try {
        out = await block<Outcome>(t, (wake) => { void got.then(wake); return () => {}; }, { killableOnly: true });
      } catch (killed) {
        // Dead before the server's word: the caches still follow a change that was made.
        void got.then((late) => { if ('ok' in late) this.restQuietly(late.ok); });
        throw killed;
      }
      if (!('ok' in out)) throw interrupted;
    }
    if ('err' in out) throw out.err;
    return this.rest(out.ok);
  }

  private restQuietly(v: unknown): void {
    try { this.rest(v); } catch { /* nobody waits for the syscall now */ }
  }
}

/** change(), then rest on its value; a ChangeWait from change carries rest along. */
export function afterChange<T, U>(change: () => T, rest: (v: T) => U): U {
  let v: T;
  try { v = change(); } catch (e) {
    if (e instanceof ChangeWait) throw e.andThen((x) => rest(x as T));
    throw e;
  }
  return rest(v);
}
