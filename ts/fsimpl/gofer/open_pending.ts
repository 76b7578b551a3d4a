// Opens the host makes wait (p9.OpenPending: the gofer's open of a file whose lease another
// host process is being asked to give up). The opener's task waits interruptibly while the
// sentry's other tasks run; the open is flushed if a signal or death comes first. Its result
// waits here, by file (qid path: the retry may look the name up afresh) and flags, for the
// open's retry (openPath opens again after the wait).

import type { Task } from '../../kernel/task';
import { block } from '../../kernel/blocking';
import { SyscallError } from '../../kernel/syscall_error';
import { EIO } from '../../abi/linux/errno';
import type { Opened, OpenPending } from '../../p9/client';
import { OpenWait } from '../../vfs/open_wait';

type Open = Opened & { fid: number };

export class PendingOpens<K> {
  /** Opens done after a wait, for the retry of the open that waited. */
  private readonly ready = new Map<K, { flags: number; o: Open }>();

  constructor(private readonly release: (o: Open) => void) {}

  /** The open a wait for (key, flags) ended with, if the retry is this one. */
  take(key: K, flags: number): Open | null {
    const r = this.ready.get(key);
    if (r === undefined || r.flags !== flags) return null;
    this.ready.delete(key);
    return r.o;
  }

  /** The OpenWait that makes the caller's task wait for p, then open again; key null: the
   *  open is let go once done (the retry opens afresh). */
  waitFor(key: K | null, flags: number, p: OpenPending): OpenWait {
    const result = p.claim();
    let kept: { flags: number; o: Open } | null = null;
    const w = new OpenWait(async (t: Task) => {
      let out: Open | SyscallError;
      try {
        out = await block<Open | SyscallError>(t, (wake) => {
          result.then(wake, (e: unknown) => wake(e instanceof SyscallError ? e : new SyscallError(EIO)));
          return () => {};
        });
      } catch (e) {
        // A signal or death first: flush the open (done already: let go).
        p.cancel();
        throw e;
      }
      if (out instanceof SyscallError) throw out;
      if (key === null) { this.release(out); return; }
      const old = this.ready.get(key);
      if (old) this.release(old.o);
      kept = { flags, o: out };
      this.ready.set(key, kept);
    });
    // The retry did not take it (its task killed between the wake-up and the retry, or the
    // retry failed before the open): let go now, not when the file is next opened.
    w.done = () => {
      if (key === null || kept === null || this.ready.get(key) !== kept) return;
      this.ready.delete(key);
      this.release(kept.o);
    };
    return w;
  }
}
