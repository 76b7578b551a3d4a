// Requests sent ahead (Client.sendAhead: the sibling listings a traversal wants next). They go
// in the same write as the caller's own requests, behind them, and the caller gets its reply
// without waiting for theirs. Their replies are taken before any later write goes, so the
// server never holds two batches of unread replies while the sentry writes (a server blocked
// writing replies to a sentry blocked writing requests would deadlock); requests not sent
// with the step that made them never go (the fids they name are that step's). A fixed-seed
// fuzzer mixes ahead requests, plain ones, drops, failing settles and broken replies.
import { describe, expect, it } from 'vitest';
import { Client } from '../../../ts/p9/client';
import * as m from '../../../ts/p9/messages';
import type { Received } from '../../../ts/p9/transport';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { EIO } from '../../../ts/abi/linux/errno';
import { ScriptedTransport, p9Reply } from '../../helpers/p9_fake_transport';

/** Records each write's requests and how many replies were still unread when it went. */
class WritesTransport extends ScriptedTransport {
  readonly writes: { types: number[]; fids: number[]; unread: number }[] = [];
  /** Replies that are garbage instead of Rreadlink, by fid. */
  readonly garbleFid = new Set<number>();
  constructor() {
    super((req) => {
      if (req.type === m.Tversion) return [p9Reply(m.Rversion, m.NOTAG, { msize: 8192, version: '9P2000.L' })];
      const fid = req.fields.fid as number;
      if (this.garbleFid.has(fid)) return [{ msg: new Uint8Array([3, 0, 0, 0, 0]), fds: [] }];
      return [p9Reply(m.Rreadlink, req.tag, { target: `t${fid}` })];
    });
  }
  override send(msgs: Uint8Array): void {
    const before = this.sent.length;
    const unread = this.ready.length;
    super.send(msgs);
    const reqs = this.sent.slice(before);
    this.writes.push({ types: reqs.map((r) => r.type), fids: reqs.map((r) => r.fields.fid as number), unread });
  }
  override call(msg: Uint8Array): Received { this.send(msg); return this.recv(); }
  get unread(): number { return this.ready.length; }
}

function client(): { c: Client; t: WritesTransport } {
  const t = new WritesTransport();
  const c = new Client(t, { closeFd: () => {}, inOrder: true });
  c.version();
  t.writes.length = 0;
  return { c, t };
}

const readlink = (c: Client, fid: number): string => c.finish(c.start(m.Treadlink, { fid })).msg.fields.target as string;

/** Ahead readlinks of fids; their targets land in `got` when settled. */
function ahead(c: Client, fids: number[], got: string[]): void {
  let tags: number[] = [];
  c.sendAhead(
    () => { tags = fids.map((fid) => c.start(m.Treadlink, { fid })); },
    () => { for (const tag of tags) got.push(c.finish(tag).msg.fields.target as string); },
  );
}

describe('9P client: requests sent ahead', () => {
  it('go in the same write behind the caller\'s, whose reply comes without reading theirs', () => {
    const { c, t } = client();
    const got: string[] = [];
    ahead(c, [11, 12], got);
    expect(readlink(c, 1)).toBe('t1');
    expect(t.writes.map((w) => w.fids)).toEqual([[1, 11, 12]]);
    expect(t.unread).toBe(2);
    expect(got).toEqual([]);
  });

  it('their replies are taken before the next write goes: never a write while replies are unread', () => {
    const { c, t } = client();
    const got: string[] = [];
    ahead(c, [11, 12], got);
    readlink(c, 1);
    expect(readlink(c, 2)).toBe('t2');
    expect(got).toEqual(['t11', 't12']);
    expect(t.writes.map((w) => w.unread)).toEqual([0, 0]);
    expect(t.writes.map((w) => w.fids)).toEqual([[1, 11, 12], [2]]);
  });

  it('settleAhead takes them on demand, once', () => {
    const { c, t } = client();
    const got: string[] = [];
    ahead(c, [11], got);
    readlink(c, 1);
    c.settleAhead();
    c.settleAhead();
    expect(got).toEqual(['t11']);
    expect(t.unread).toBe(0);
  });

  it('dropped before the write, they never go', () => {
    const { c, t } = client();
    const got: string[] = [];
    ahead(c, [11], got);
    c.dropAhead();
    readlink(c, 1);
    readlink(c, 2);
    expect(t.writes.flatMap((w) => w.fids)).toEqual([1, 2]);
    expect(got).toEqual([]);
  });

  it('a settle that fails does not escape; a broken stream is EIO for the next request', () => {
    const { c, t } = client();
    t.garbleFid.add(11);
    const got: string[] = [];
    ahead(c, [11], got);
    readlink(c, 1);
    expect(() => c.settleAhead()).not.toThrow();
    let err: unknown = null;
    try { readlink(c, 2); } catch (e) { err = e; }
    expect(err instanceof SyscallError && err.errno).toBe(EIO);
  });

  it('close does not wait for them', () => {
    const { c, t } = client();
    ahead(c, [11], []);
    readlink(c, 1);
    c.close();
    expect(t.unread).toBe(1);
  });

  it('fuzz: ahead batches, plain requests, drops and broken replies from a fixed seed keep every write clean and every answer right (seed 5)', () => {
    let x = 5;
    const rnd = (n: number): number => { x = (x * 1103515245 + 12345) >>> 0; return (x >>> 8) % n; };
    for (let round = 0; round < 200; round++) {
      const { c, t } = client();
      const want: string[] = [];
      const got: string[] = [];
      let broken = false;
      for (let step = 0; step < 30; step++) {
        const fid = 100 + step;
        const op = rnd(6);
        try {
          if (op === 0) {
            const fids = [fid * 10, fid * 10 + 1].slice(0, 1 + rnd(2));
            if (rnd(12) === 0) t.garbleFid.add(fids[0]);
            ahead(c, fids, got);
            if (rnd(4) === 0) c.dropAhead();
            else if (!broken) want.push(...fids.map((f) => `t${f}`));
          } else if (op === 1) c.settleAhead();
          else expect(readlink(c, fid)).toBe(`t${fid}`);
        } catch (e) {
          expect(e instanceof SyscallError && e.errno).toBe(EIO);
          broken = true;
        }
        if (t.garbleFid.size > 0 && t.sent.some((r) => t.garbleFid.has(r.fields.fid as number))) broken = true;
      }
      c.settleAhead();
      // Never a write while replies sat unread; every answer taken is the right one, in order.
      for (const w of t.writes) expect(w.unread).toBe(0);
      for (const g of got) expect(want).toContain(g);
      if (!broken) expect(got).toEqual(want.filter((w) => t.sent.some((r) => `t${r.fields.fid as number}` === w)));
    }
  });
});
