// Blocked pipe writers (kernel/pipe.ts): a write that finds the pipe full leaves its source
// with the pipe, and the reads that make room take the rest of it in. From a fixed seed:
// several writers with writes smaller and larger than the pipe, readers of random sizes, the
// ring resized and writers interrupted part way. Every byte names its writer and its place in
// that writer's stream, so the reader checks that each writer's bytes come in order, that a
// write of at most PIPE_BUF bytes is never split by another writer's, and that an
// interrupted write reports exactly the bytes it put in.
import { describe, expect, it } from 'vitest';
import { Pipe, pipeRead, pipeWrite } from '../../../ts/kernel/pipe';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import type { Task } from '../../../ts/kernel/task';
import { seededRandom } from '../../helpers/rng';

const PIPE_BUF = 4096;
const WRITERS = 4;
/** Byte value: writer * SPAN + (place in its stream mod SPAN). */
const SPAN = 60;

/** What block() looks at: a task with no signal pending, not stopped, not traced. */
function fakeTask(): Task {
  return {
    ioNowait: false, ioWorker: null, exited: false, ptrace: null, pending: { set: 0n }, sigMask: 0n,
    tg: { jobStop: null, pending: { set: 0n }, signalTargets: new Map() },
    waitCancel: null, waitKillableOnly: false, syscallRestart: 0,
  } as unknown as Task;
}

interface Writer {
  t: Task;
  /** Next place in its stream, and where the write in progress started. */
  next: number;
  busy: boolean;
  /** Small writes in flight or done: [first place, length]. */
  atomic: [number, number][];
}

async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) await Promise.resolve();
}

async function scenario(seed: number): Promise<void> {
  const rand = seededRandom(seed);
  const pick = (n: number): number => Math.floor(rand() * n);
  const p = new Pipe(0, 0);
  p.readers = 1;
  p.writers = WRITERS;
  const blocking = { flags: 0 };
  const writers: Writer[] = Array.from({ length: WRITERS }, () => ({ t: fakeTask(), next: 0, busy: false, atomic: [] }));
  const reader = fakeTask();
  // Where in all that was read the first and last bytes of each small write came (-1: not
  // yet), per writer, by their place in its stream.
  const seenAt: Map<number, number>[] = writers.map(() => new Map());
  const expectNext = writers.map(() => 0);
  let readTotal = 0;
  let written = 0;
  let readerBusy = false;

  // The first byte that was not its writer's next (checked per byte without expect(), which
  // is too slow for megabytes; asserted at the end).
  let wrong = '';
  const take = (buf: Uint8Array, n: number): void => {
    for (let i = 0; i < n && wrong === ''; i++) {
      const w = Math.floor(buf[i] / SPAN);
      // The next byte of that writer's stream (bytes a write never put in are skipped:
      // the writer's next write starts after the last byte that went in).
      const place = w < WRITERS ? expectNext[w] : -1;
      if (place < 0 || buf[i] % SPAN !== place % SPAN) {
        wrong = `byte ${readTotal + i}: ${buf[i]} is not writer ${w}'s next (place ${place})`;
        break;
      }
      if (seenAt[w].has(place)) seenAt[w].set(place, readTotal + i);
      expectNext[w] = place + 1;
    }
    readTotal += n;
  };

  const startWrite = (w: number): void => {
    const wr = writers[w];
    const len = rand() < 0.4 ? 1 + pick(PIPE_BUF) : 1 + pick(100_000);
    const first = wr.next;
    const data = new Uint8Array(len);
    for (let i = 0; i < len; i++) data[i] = w * SPAN + ((first + i) % SPAN);
    if (len <= PIPE_BUF) {
      wr.atomic.push([first, len]);
      seenAt[w].set(first, -1).set(first + len - 1, -1);
    }
    const done = (n: number): void => {
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThanOrEqual(len);
      wr.next = first + n;
      written += n;
      wr.busy = false;
    };
    wr.busy = true;
    wr.t.syscallRestart = 0;
    const r = pipeWrite(wr.t, p, blocking, data);
    if (typeof r === 'number') {
      expect(r).toBe(len);
      done(r);
      return;
    }
    r.then((n) => {
      // Only an interrupted write is short.
      if (n < len) expect(wr.t.syscallRestart === 0).toBe(false);
      done(n);
    }, (e: unknown) => {
      // Interrupted before any byte went in: its places are the next write's.
      expect(e).toBeInstanceOf(SyscallError);
      if (len <= PIPE_BUF) wr.atomic.pop();
      wr.busy = false;
    });
  };

  const startRead = (): void => {
    const buf = new Uint8Array(1 + pick(50_000));
    const r = pipeRead(reader, p, blocking, buf);
    if (typeof r === 'number') {
      take(buf, r);
      return;
    }
    readerBusy = true;
    r.then((n) => { take(buf, n); readerBusy = false; });
  };

  for (let step = 0; step < 250 && wrong === ''; step++) {
    const c = rand();
    const idle = writers.map((_, i) => i).filter((i) => !writers[i].busy);
    if (c < 0.45 && idle.length > 0) {
      startWrite(idle[pick(idle.length)]);
    } else if (c < 0.9) {
      if (!readerBusy && (p.available > 0 || writers.some((w) => w.busy))) startRead();
    } else if (c < 0.95) {
      // F_SETPIPE_SZ: any size the pages in use fit in.
      const slots = 1 << pick(6);
      try { p.resize(slots); } catch { /* EBUSY */ }
    } else {
      // A signal for a blocked writer: its write ends with what went in so far.
      const busy = writers.filter((w) => w.busy && w.t.waitCancel !== null);
      if (busy.length > 0) busy[pick(busy.length)].t.waitCancel?.();
    }
    await settle();
  }
  // Drain: every write ends once the reader has taken what it put in.
  for (let i = 0; i < 10_000 && wrong === '' && (writers.some((w) => w.busy) || p.available > 0 || readerBusy); i++) {
    if (!readerBusy) startRead();
    await settle();
  }
  expect(wrong).toBe('');
  expect(writers.some((w) => w.busy)).toBe(false);
  expect(readTotal).toBe(written);
  for (let w = 0; w < WRITERS; w++) {
    expect(expectNext[w]).toBe(writers[w].next);
    // PIPE_BUF: a small write that went in is one run, not split by another writer's bytes.
    for (const [first, len] of writers[w].atomic) {
      const a = seenAt[w].get(first) ?? -1;
      const b = seenAt[w].get(first + len - 1) ?? -1;
      if (a < 0 || b < 0) continue; // interrupted before it went in
      expect(b - a, `writer ${w}'s write of ${len} at ${first}`).toBe(len - 1);
    }
  }
}

describe('pipe writers blocked on a full pipe', () => {
  for (const seed of [1, 7, 42, 1234, 99991]) {
    it(`seed ${seed}: order, PIPE_BUF atomicity and counts`, async () => {
      await scenario(seed);
    });
  }
});
