// cloneOpen when the server does not answer the Tlopen at once (the host makes the open wait:
// tsvisor-gofer runs it on a worker): after OPEN_WAIT_MS the client throws OpenPending instead
// of blocking the sentry; the claimant gets the open when its reply comes; cancel() flushes it,
// and an open whose reply beats the Rflush is let go (fd closed, fid clunked); an OpenPending
// nobody claims is cancelled at once.
import { describe, expect, it } from 'vitest';
import { Client, OpenPending } from '../../../ts/p9/client';
import * as m from '../../../ts/p9/messages';
import type { Received } from '../../../ts/p9/transport';
import { ScriptedTransport, p9Reply } from '../../helpers/p9_fake_transport';

class HeldTransport extends ScriptedTransport {
  private watcher: (() => void) | null = null;
  override watch(fn: () => void): () => void {
    this.watcher = fn;
    return () => { if (this.watcher === fn) this.watcher = null; };
  }
  deliver(...rs: Received[]): void {
    this.ready.push(...rs);
    setImmediate(() => this.watcher?.());
  }
}

const qid = { type: 0, version: 0, path: 7n };

function setup(): { c: Client; t: HeldTransport; closed: number[]; pending: OpenPending } {
  const t = new HeldTransport((req) => {
    if (req.type === m.Tversion) return [p9Reply(m.Rversion, m.NOTAG, { msize: 8192, version: '9P2000.L' })];
    if (req.type === m.Twalk) return [p9Reply(m.Rwalk, req.tag, { qids: [qid] })];
    return []; // Tlopen, Tflush, Tclunk: held until the test delivers
  });
  const closed: number[] = [];
  const c = new Client(t, { closeFd: (fd) => closed.push(fd), inOrder: true });
  c.version();
  let pending: OpenPending | null = null;
  try { c.cloneOpen(1, 0, ['leased'], true); } catch (e) { if (e instanceof OpenPending) pending = e; else throw e; }
  expect(pending).not.toBeNull();
  return { c, t, closed, pending: pending! };
}

const tagOf = (t: HeldTransport, type: number) => [...t.sent].reverse().find((x) => x.type === type)?.tag;
const settle = <T>(p: Promise<T>) => p.then((ok) => ({ ok }), (err: unknown) => ({ err }));

describe('9P client: an open that waits on the server', () => {
  it('gives the claimant the open when its reply comes', async () => {
    const { t, pending } = setup();
    const r = pending.claim();
    t.deliver(p9Reply(m.Rlopen, tagOf(t, m.Tlopen)!, { qid, iounit: 0 }, [77]));
    const o = await r;
    expect(o.fd).toBe(77);
    expect(tagOf(t, m.Tflush)).toBeUndefined();
  });

  it('cancel flushes it: no reply before the Rflush, the open fails', async () => {
    const { t, pending } = setup();
    const r = settle(pending.claim());
    pending.cancel();
    await new Promise((res) => setImmediate(res));
    const ft = tagOf(t, m.Tflush);
    expect(ft).toBeDefined();
    expect(t.sent.find((x) => x.type === m.Tflush)!.fields.oldtag).toBe(tagOf(t, m.Tlopen));
    t.deliver(p9Reply(m.Rflush, ft!, {}));
    expect('err' in await r).toBe(true);
  });

  it('an open whose reply beats the Rflush is let go: its fd closed, its fid clunked', async () => {
    const { c, t, closed, pending } = setup();
    const r = pending.claim();
    pending.cancel();
    await new Promise((res) => setImmediate(res));
    const fid = t.sent.find((x) => x.type === m.Tlopen)!.fields.fid;
    t.deliver(p9Reply(m.Rlopen, tagOf(t, m.Tlopen)!, { qid, iounit: 0 }, [88]), p9Reply(m.Rflush, tagOf(t, m.Tflush)!, {}));
    expect((await r).fd).toBe(88);
    await new Promise((res) => setImmediate(res));
    expect(closed).toContain(88);
    c.clunkLater(999); // queued clunks go out with the next request
    try { c.walk(1, []); } catch { /* the fake answers with no qids for the clone: only the sending matters */ }
    expect(t.sent.some((x) => x.type === m.Tclunk && x.fields.fid === fid)).toBe(true);
  });

  it('is cancelled when nobody claims it', async () => {
    const { t } = setup();
    await new Promise((res) => setImmediate(res));
    expect(tagOf(t, m.Tflush)).toBeDefined();
  });
});

describe('9P client: a create whose open waits on the server', () => {
  it('throws OpenPending after OPEN_WAIT_MS, and the claimant gets the open when it comes', async () => {
    const t = new HeldTransport((req) => {
      if (req.type === m.Tversion) return [p9Reply(m.Rversion, m.NOTAG, { msize: 8192, version: '9P2000.L' })];
      return []; // Tlcreate: held (the name existed, a host lease holds its open)
    });
    const c = new Client(t, { closeFd: () => {}, inOrder: true });
    c.version();
    let pending: OpenPending | null = null;
    try { c.lcreate(5, 'leased', 2, 0o644, 0, true); } catch (e) { if (e instanceof OpenPending) pending = e; else throw e; }
    expect(pending).not.toBeNull();
    const r = pending!.claim();
    t.deliver(p9Reply(m.Rlcreate, tagOf(t, m.Tlcreate)!, { qid, iounit: 0 }, [66]));
    const o = await r;
    expect([o.fd, o.fid]).toEqual([66, 5]);
  });
});

