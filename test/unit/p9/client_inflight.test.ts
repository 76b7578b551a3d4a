// The 9P client with requests in flight (Client.callAsync): replies matched by tag in any
// order, synchronous requests going and coming while asynchronous ones wait, Tflush when the
// caller is interrupted (the reply wins if it beats the Rflush), and the matching as a parser
// boundary: a duplicate reply, a reply to a flushed tag, to a tag never sent, an oversized or
// malformed one break the connection (every waiter gets EIO), never crash, never give one
// request another's reply, and close every fd that came with them. A fixed-seed fuzzer mixes
// all of it. The transport is a fake whose replies the test releases when it wants.
import { describe, expect, it } from 'vitest';
import { Client } from '../../../ts/p9/client';
import * as m from '../../../ts/p9/messages';
import { FramingError, SocketTransport, type Received } from '../../../ts/p9/transport';
import { addon } from '../../../ts/native/addon';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { EINTR, EIO } from '../../../ts/abi/linux/errno';
import { ScriptedTransport, p9Reply } from '../../helpers/p9_fake_transport';

class HeldTransport extends ScriptedTransport {
  failNext: Error | null = null;
  private watcher: (() => void) | null = null;
  override poll(): Received | null {
    if (this.failNext) { const e = this.failNext; this.failNext = null; throw e; }
    return this.ready.shift() ?? null;
  }
  override watch(fn: () => void): () => void {
    this.watcher = fn;
    return () => { if (this.watcher === fn) this.watcher = null; };
  }
  get watching(): boolean { return this.watcher !== null; }
  /** The server sends these now; the client hears of it on the next turn. */
  deliver(...rs: Received[]): void {
    this.ready.push(...rs);
    setImmediate(() => this.watcher?.());
  }
  /** As SocketTransport's: fds of replies nobody read are closed with the connection. */
  onClose: (fds: number[]) => void = () => {};
  override close(): void { this.onClose(this.ready.flatMap((r) => r.fds)); this.ready.length = 0; }
}

const reply = p9Reply;
const readlinkReply = (tag: number, fds: number[] = []) => reply(m.Rreadlink, tag, { target: `target-of-${tag}` }, fds);
const tick = () => new Promise((r) => setImmediate(r));

function client(serveSync?: (req: m.Message) => Received[]): { c: Client; t: HeldTransport; closed: number[] } {
  const t = new HeldTransport((req) => {
    if (req.type === m.Tversion) return [reply(m.Rversion, m.NOTAG, { msize: 8192, version: '9P2000.L' })];
    return serveSync ? serveSync(req) : [];
  });
  const closed: number[] = [];
  const c = new Client(t, { closeFd: (fd) => closed.push(fd) });
  t.onClose = (fds) => closed.push(...fds);
  c.version();
  return { c, t, closed };
}

/** The promise's outcome without an unhandled rejection. */
function settle<T>(p: Promise<T>): Promise<{ ok: T } | { err: unknown }> {
  return p.then((ok) => ({ ok }), (err) => ({ err }));
}
const errno = (o: { err?: unknown }) => (o.err instanceof SyscallError ? o.err.errno : `not a SyscallError: ${String(o.err)}`);
const lastTag = (t: HeldTransport, type: number) => [...t.sent].reverse().find((x) => x.type === type)!.tag;

describe('9P client: requests in flight', () => {
  it('matches replies that come in another order than the requests', async () => {
    const { c, t } = client();
    const a = settle(c.callAsync(m.Treadlink, { fid: 1 }));
    const ta = lastTag(t, m.Treadlink);
    const b = settle(c.callAsync(m.Treadlink, { fid: 2 }));
    const tb = lastTag(t, m.Treadlink);
    expect(ta).not.toBe(tb);
    expect(t.watching).toBe(true);
    t.deliver(readlinkReply(tb));
    await tick();
    t.deliver(readlinkReply(ta));
    const [ra, rb] = await Promise.all([a, b]);
    expect('ok' in ra && ra.ok.msg.fields.target).toBe(`target-of-${ta}`);
    expect('ok' in rb && rb.ok.msg.fields.target).toBe(`target-of-${tb}`);
    expect(t.watching).toBe(false); // nobody waits: the watch is off
  });

  it('synchronous requests go and come while an asynchronous one waits; a reply read by them reaches its waiter', async () => {
    let slowTag = -1;
    const { c, t } = client((req) => {
      // The server answers the slow request first, in the same read as the getattr's reply.
      if (req.type === m.Tgetattr) return [readlinkReply(slowTag), reply(m.Rlerror, req.tag, { ecode: 2 })];
      return [];
    });
    const slow = settle(c.callAsync(m.Treadlink, { fid: 1 }));
    slowTag = lastTag(t, m.Treadlink);
    expect(() => c.getattr(5)).toThrow(expect.objectContaining({ errno: 2 }));
    const r = await slow;
    expect('ok' in r && r.ok.msg.fields.target).toBe(`target-of-${slowTag}`);
  });

  it('an interrupted request is flushed: EINTR once the Rflush comes, and its tag is free again', async () => {
    const { c, t } = client();
    let interrupt!: () => void;
    const p = settle(c.callAsync(m.Treadlink, { fid: 1 }, new Promise<void>((r) => { interrupt = r; }), () => new SyscallError(EINTR)));
    const tag = lastTag(t, m.Treadlink);
    await tick();
    interrupt();
    await tick();
    const flush = t.sent[t.sent.length - 1];
    expect(flush.type).toBe(m.Tflush);
    expect(flush.fields.oldtag).toBe(tag);
    t.deliver(reply(m.Rflush, flush.tag, {}));
    expect(errno(await p as { err?: unknown })).toBe(EINTR);
    // Both tags are free: the next requests reuse them, and the client is still fine.
    const q = settle(c.callAsync(m.Treadlink, { fid: 3 }));
    const tq = lastTag(t, m.Treadlink);
    expect([tag, flush.tag]).toContain(tq);
    t.deliver(readlinkReply(tq));
    expect('ok' in await q).toBe(true);
  });

  /** A readlink interrupted at once: its outcome, its tag, and the Tflush sent for it. */
  async function interruptedReadlink(c: Client, t: HeldTransport) {
    let interrupt!: () => void;
    const p = settle(c.callAsync(m.Treadlink, { fid: 1 }, new Promise<void>((r) => { interrupt = r; }), () => new SyscallError(EINTR)));
    const tag = lastTag(t, m.Treadlink);
    interrupt();
    await tick();
    const flush = t.sent[t.sent.length - 1];
    expect(flush.type).toBe(m.Tflush);
    return { p, tag, flush };
  }

  it('a reply that beats the Rflush wins: the operation happened', async () => {
    const { c, t } = client();
    const { p, tag, flush } = await interruptedReadlink(c, t);
    t.deliver(readlinkReply(tag), reply(m.Rflush, flush.tag, {}));
    const r = await p;
    expect('ok' in r && r.ok.msg.fields.target).toBe(`target-of-${tag}`);
  });

  it('a flushed tag answered before its Rflush is reused only after the Rflush (9P\'s rule)', async () => {
    const { c, t } = client();
    const { p, tag, flush } = await interruptedReadlink(c, t);
    // The reply comes, the Rflush not yet: requests made meanwhile take other tags.
    t.deliver(readlinkReply(tag));
    await tick();
    const during: Promise<unknown>[] = [];
    for (let i = 0; i < 3; i++) {
      during.push(settle(c.callAsync(m.Treadlink, { fid: 10 + i })));
      expect(lastTag(t, m.Treadlink)).not.toBe(tag);
    }
    t.deliver(reply(m.Rflush, flush.tag, {}));
    const r = await p;
    expect('ok' in r && r.ok.msg.fields.target).toBe(`target-of-${tag}`);
    // Now it is free: the next request may have it.
    const q = settle(c.callAsync(m.Treadlink, { fid: 3 }));
    const tq = lastTag(t, m.Treadlink);
    expect([tag, flush.tag]).toContain(tq);
    t.deliver(...t.sent.filter((x) => x.type === m.Treadlink && x.fields.fid !== 1).map((x) => readlinkReply(x.tag)));
    expect('ok' in await q).toBe(true);
    await Promise.all(during);
  });

  const hostile: [string, (tag: number, flushTag: number) => Received[]][] = [
    ['a second reply for the same tag', (tag) => [readlinkReply(tag, [41]), readlinkReply(tag, [42])]],
    ['a reply to a tag never sent', () => [readlinkReply(999, [43])]],
    ['a reply to the flushed tag after the Rflush', (tag, ft) => [reply(m.Rflush, ft, {}), readlinkReply(tag, [44])]],
    ['a reply to a reserved tag', () => [readlinkReply(m.NOTAG, [45])]],
    ['a truncated reply', (tag) => [{ msg: new Uint8Array([9, 0, 0, 0, m.Rreadlink, tag & 0xff, tag >> 8, 0xff, 0xff]), fds: [46] }]],
  ];
  for (const [what, forge] of hostile) {
    it(`${what}: the connection is broken, every waiter gets EIO, fds are closed, nothing throws`, async () => {
      const { c, t, closed } = client();
      let interrupt!: () => void;
      const a = settle(c.callAsync(m.Treadlink, { fid: 1 }, new Promise<void>((r) => { interrupt = r; }), () => new SyscallError(EINTR)));
      const tag = lastTag(t, m.Treadlink);
      const b = settle(c.callAsync(m.Treadlink, { fid: 2 }));
      let flushTag = -1;
      if (what.includes('flushed')) {
        interrupt();
        await tick();
        flushTag = lastTag(t, m.Tflush);
      }
      const forged = forge(tag, flushTag);
      t.deliver(...forged);
      const [ra, rb] = await Promise.all([a, b]);
      // The first request may have had its (first, genuine) reply: never another's.
      if ('ok' in ra) expect(ra.ok.msg.fields.target).toBe(`target-of-${tag}`);
      else expect([EIO, EINTR]).toContain(errno(ra));
      expect(errno(rb as { err?: unknown })).toBe(EIO);
      expect(() => c.getattr(1)).toThrow(expect.objectContaining({ errno: EIO }));
      c.close();
      const fds = forged.flatMap((r) => r.fds);
      expect(closed).toEqual(expect.arrayContaining(fds));
      expect(t.watching).toBe(false);
    });
  }

  it('an oversized message (the transport refuses its framing) fails every waiter with EIO', async () => {
    const { c, t } = client();
    const a = settle(c.callAsync(m.Treadlink, { fid: 1 }));
    t.failNext = new FramingError('9P: message size 99999999 outside [7, 8192]');
    t.deliver();
    expect(errno(await a as { err?: unknown })).toBe(EIO);
    await expect(settle(c.callAsync(m.Treadlink, { fid: 1 }))).resolves.toMatchObject({ err: expect.any(SyscallError) });
  });

  it('fuzz (fixed seed): in-order, reordered, flushed, duplicated, forged and corrupt replies never cross or crash', async () => {
    let seed = 0x9e3779b9;
    const rnd = (n: number) => {
      seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
      return seed % n;
    };
    let broken = 0, answered = 0, interrupted = 0;
    for (let round = 0; round < 300; round++) {
      const { c, t, closed } = client();
      const n = 1 + rnd(6);
      const calls: { tag: number; p: Promise<{ ok: { msg: m.Message } } | { err: unknown }>; interrupt: () => void }[] = [];
      for (let i = 0; i < n; i++) {
        let interrupt!: () => void;
        const p = settle(c.callAsync(m.Treadlink, { fid: i }, new Promise<void>((r) => { interrupt = r; }), () => new SyscallError(EINTR)));
        const entry = { tag: lastTag(t, m.Treadlink), p, interrupt, done: false };
        p.then(() => { entry.done = true; });
        calls.push(entry);
      }
      const given: number[] = [];
      let fd = 1000 * round;
      const pending = [...calls];
      for (let step = 0; step < 3 * n + 2; step++) {
        const k = rnd(10);
        const pick = pending.length ? pending[rnd(pending.length)] : null;
        if (k < 4 && pick) {
          pending.splice(pending.indexOf(pick), 1);
          t.deliver(readlinkReply(pick.tag));
        } else if (k < 6 && pick) {
          pick.interrupt();
          await tick();
          const f = [...t.sent].reverse().find((x) => x.type === m.Tflush && x.fields.oldtag === pick.tag);
          if (f) t.deliver(reply(m.Rflush, f.tag, {}));
          pending.splice(pending.indexOf(pick), 1);
        } else if (k === 6) {
          const bytes = new Uint8Array(7 + rnd(40));
          for (let i = 0; i < bytes.length; i++) bytes[i] = rnd(256);
          new DataView(bytes.buffer).setUint32(0, bytes.length, true);
          const fds = rnd(2) ? [fd++] : [];
          given.push(...fds);
          t.deliver({ msg: bytes, fds });
        } else if (k === 7) {
          const fds = [fd++];
          given.push(...fds);
          t.deliver(readlinkReply(calls[rnd(calls.length)].tag, fds)); // maybe a duplicate
        } else if (k === 8) {
          const fds = [fd++];
          given.push(...fds);
          t.deliver(reply(m.Rlerror, 5000 + rnd(100), { ecode: 5 }, fds));
        } else {
          await tick();
        }
      }
      // Whatever is still waiting is interrupted, and the server answers its flush.
      for (const x of calls) x.interrupt();
      for (let i = 0; i < 3; i++) await tick();
      for (const f of t.sent.filter((x) => x.type === m.Tflush)) t.deliver(reply(m.Rflush, f.tag, {}));
      // A request that never settles is a failure of its own, not a test timeout.
      const results = await Promise.race([Promise.all(calls.map((x) => x.p)), new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`round ${round}: requests ${calls.filter((x) => !x.done).map((x) => x.tag).join(',')} never settled`)), 5000))]);
      results.forEach((r, i) => {
        if ('ok' in r) {
          answered++;
          expect(r.ok.msg.fields.target).toBe(`target-of-${calls[i].tag}`);
        } else {
          expect(r.err).toBeInstanceOf(SyscallError);
          const e = (r.err as SyscallError).errno;
          expect([EIO, EINTR]).toContain(e);
          if (e === EINTR) interrupted++; else broken++;
        }
      });
      c.close();
      // Every fd a reply brought is closed (a Treadlink's reply keeps none).
      expect(closed).toEqual(expect.arrayContaining(given));
    }
    // The three outcomes all happen.
    expect(answered).toBeGreaterThan(50);
    expect(interrupted).toBeGreaterThan(20);
    expect(broken).toBeGreaterThan(20);
  }, 60_000);

  it('over a real socket: a reply out of order and then an oversized frame (the readiness watch wakes the waiters; EIO for the rest)', async () => {
    const [mine, theirs] = addon().p9Socketpair();
    const closed: number[] = [];
    const c = new Client(new SocketTransport(mine, 5000), { closeFd: (fd) => closed.push(fd) });
    const read = (): m.Message[] => {
      const b = addon().p9RecvSome(theirs, new Int32Array(5), 65536, 5000);
      const out: m.Message[] = [];
      for (let at = 0; at < b.length;) {
        const size = b.readUInt32LE(at);
        out.push(m.decodeMessage(b.subarray(at, at + size)));
        at += size;
      }
      return out;
    };
    try {
      addon().p9Send(theirs, m.encodeMessage(m.Rversion, m.NOTAG, { msize: 8192, version: '9P2000.L' }), 1000);
      c.version(); // its reply was already there
      read(); // the Tversion
      const a = settle(c.callAsync(m.Treadlink, { fid: 1 }));
      const b = settle(c.callAsync(m.Treadlink, { fid: 2 }));
      const reqs: m.Message[] = [];
      while (reqs.length < 2) reqs.push(...read());
      addon().p9Send(theirs, readlinkReply(reqs[1].tag).msg, 1000);
      const rb = await b;
      expect('ok' in rb && rb.ok.msg.fields.target).toBe(`target-of-${reqs[1].tag}`);
      // A frame bigger than msize: the stream is out of step.
      const huge = new Uint8Array(7);
      new DataView(huge.buffer).setUint32(0, 1 << 30, true);
      huge[4] = m.Rreadlink;
      addon().p9Send(theirs, huge, 1000);
      expect(errno(await a as { err?: unknown })).toBe(EIO);
      expect(() => c.getattr(1)).toThrow(expect.objectContaining({ errno: EIO }));
    } finally {
      c.close();
      addon().p9Close(theirs);
    }
  });
});
