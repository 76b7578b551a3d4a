// PendingOpens (ts/fsimpl/gofer/open_pending.ts): an open that finished after a wait is kept
// for the open's retry; when the retry is over without taking it (its task killed between
// the wake-up and the retry, or the retry failed before the open), OpenWait.done lets it go:
// its fd and fid are not held until the file is next opened.
import { describe, expect, it } from 'vitest';
import { OpenPending, type Opened } from '../../../ts/p9/client';
import { PendingOpens } from '../../../ts/fsimpl/gofer/open_pending';
import type { Task } from '../../../ts/kernel/task';

/** What block() looks at: a task with no signal pending, not stopped, not traced. */
const task = {
  ioNowait: false, ioWorker: null, exited: false, ptrace: null, pending: { set: 0n }, sigMask: 0n,
  tg: { jobStop: null, pending: { set: 0n }, signalTargets: new Map() },
  waitCancel: null, waitKillableOnly: false, syscallRestart: 0,
} as unknown as Task;

type Open = Opened & { fid: number };
const open: Open = { fid: 9, fd: 42, iounit: 0, qid: { type: 0, version: 0, path: 7n } };

function setup(): { po: PendingOpens<bigint>; released: Open[]; pending: OpenPending } {
  const released: Open[] = [];
  const po = new PendingOpens<bigint>((o) => released.push(o));
  const pending = new OpenPending(Promise.resolve(open), () => {}, (o) => released.push(o));
  return { po, released, pending };
}

describe('PendingOpens', () => {
  it('lets go of a finished open the retry did not take', async () => {
    const { po, released, pending } = setup();
    const w = po.waitFor(7n, 0, pending);
    await w.wait(task);
    expect(released).toEqual([]);
    w.done(); // the retry is over (here: never made, as for a task killed meanwhile)
    expect(released).toEqual([open]);
    expect(po.take(7n, 0)).toBeNull();
  });

  it('keeps what the retry took its own', async () => {
    const { po, released, pending } = setup();
    const w = po.waitFor(7n, 0, pending);
    await w.wait(task);
    expect(po.take(7n, 0)).toBe(open);
    w.done();
    expect(released).toEqual([]);
  });

  it('a create (no key) lets go of its open once the wait ends', async () => {
    const { po, released, pending } = setup();
    const w = po.waitFor(null, 0, pending);
    await w.wait(task);
    expect(released).toEqual([open]);
    w.done();
    expect(released).toEqual([open]);
  });
});
