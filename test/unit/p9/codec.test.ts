// The 9P codec and client against hostile bytes: every message type round-trips; truncated,
// padded and mutated messages and random bytes from a fixed seed decode to a Message or throw
// DecodeError only; the client turns them into EIO (never another exception), Rlerror into
// its errno, and closes every fd a reply carried that nobody asked for.
import { describe, expect, it } from 'vitest';
import * as m from '../../../ts/p9/messages';
import { DecodeError, type Qid } from '../../../ts/p9/wire';
import { Client } from '../../../ts/p9/client';
import type { Received } from '../../../ts/p9/transport';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { EIO, ENOENT, EACCES } from '../../../ts/abi/linux/errno';
import { ScriptedTransport, p9Reply } from '../../helpers/p9_fake_transport';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0);
}

const qid: Qid = { type: 0x80, version: 7, path: 0xfedcba9876543210n };

/** A plausible value for every field of a schema. */
function sample(type: number): m.Fields {
  const f: m.Fields = {};
  for (const [name, kind] of m.SCHEMA.get(type)!) {
    // Rwalkgetattr's steps: Rgetattr's fields, twice.
    if (kind === 'attrs') { f[name] = [sample(m.Rgetattr), sample(m.Rgetattr)]; continue; }
    f[name] = ({
      u8: 3, u16: 0x1234, u32: 0xdeadbeef, u64: 2 ** 40 + 5, u64big: 0xffffffffffffffffn, i64: -5,
      str: `nä${name}`, qid, qids: [qid, { ...qid, path: 1n }], strs: ['a', 'bc', 'δ'],
      data: new Uint8Array([1, 2, 3, 4, 5]),
    } as Record<string, m.FieldValue>)[kind];
  }
  return f;
}

function validMessages(): Uint8Array[] {
  return [...m.SCHEMA.keys()].map((t) => m.encodeMessage(t, 42, sample(t)));
}

describe('9P codec', () => {
  it('every message type round-trips', () => {
    for (const type of m.SCHEMA.keys()) {
      const f = sample(type);
      const got = m.decodeMessage(m.encodeMessage(type, 42, f));
      expect(got.type).toBe(type);
      expect(got.tag).toBe(42);
      const want = { ...f };
      // i64 fields come back as signed numbers; others exactly as sent.
      expect(got.fields).toEqual(want);
    }
  });

  it('Rgetattr and Rwalkgetattr (decoded by a literal of their own) give each field its own value', () => {
    // A value per field, all different: a field read out of the table's order gets another's.
    const distinct = (k: number): m.Fields => {
      const f: m.Fields = {};
      let i = 1;
      for (const [name, kind] of m.SCHEMA.get(m.Rgetattr)!) {
        const v = k * 1000 + i++;
        f[name] = kind === 'qid' ? { type: 0x80, version: v, path: BigInt(v) * 3n } : kind === 'u64big' ? BigInt(v) : v;
      }
      return f;
    };
    expect(m.decodeMessage(m.encodeMessage(m.Rgetattr, 1, distinct(1))).fields).toEqual(distinct(1));
    const steps = [distinct(2), distinct(3)];
    expect(m.decodeMessage(m.encodeMessage(m.Rwalkgetattr, 1, { ecode: 0, steps })).fields).toEqual({ ecode: 0, steps });
  });

  it('dirents round-trip', () => {
    const ents = [{ qid, offset: 1n, type: 4, name: '.' }, { qid, offset: 0xffffffffffffffffn, type: 8, name: 'file' }];
    expect(m.decodeDirents(m.encodeDirents(ents))).toEqual(ents);
  });

  it('dirents with attributes (Rreaddirattr) round-trip; mode 0 is no attributes; a cut is a DecodeError', () => {
    const attr = {
      mode: 0o100644, uid: 1, gid: 2, nlink: 3, rdev: 0, size: 2 ** 40, blksize: 4096, blocks: 8,
      atime: { sec: -1, nsec: 5 }, mtime: { sec: 1_700_000_000, nsec: 0 }, ctime: { sec: 7, nsec: 999_999_999 },
    };
    const ents = [{ qid, offset: 1n, type: 4, name: '.', attr: null }, { qid, offset: 0xffffffffffffffffn, type: 8, name: 'file', attr }];
    const bytes = m.encodeDirentsAttr(ents);
    expect(m.decodeDirentsAttr(bytes)).toEqual(ents);
    for (let n = 1; n < bytes.length; n++) {
      if (n === 13 + 8 + 1 + 2 + 1 + 100) continue; // exactly the first entry
      expect(() => m.decodeDirentsAttr(bytes.subarray(0, n))).toThrow(DecodeError);
    }
  });

  it('a symlink entry (Rreaddirattr) carries its target; an empty one is unknown; a cut is a DecodeError', () => {
    const attr = (mode: number) => ({
      mode, uid: 0, gid: 0, nlink: 1, rdev: 0, size: 3, blksize: 4096, blocks: 0,
      atime: { sec: 1, nsec: 2 }, mtime: { sec: 3, nsec: 4 }, ctime: { sec: 5, nsec: 6 },
    });
    const ents = [
      { qid, offset: 1n, type: 10, name: 'ln', attr: attr(0o120777), target: '../x/y' },
      { qid, offset: 2n, type: 8, name: 'f', attr: attr(0o100644) },
      { qid, offset: 3n, type: 10, name: 'gone', attr: attr(0o120777), target: null },
      { qid, offset: 4n, type: 10, name: 'long', attr: attr(0o120777), target: 'é'.repeat(2000) },
    ];
    const bytes = m.encodeDirentsAttr(ents);
    expect(m.decodeDirentsAttr(bytes)).toEqual(ents);
    // Every cut inside an entry (the link's target included) is an error, never a shorter list.
    const ends = new Set<number>();
    for (let i = 1; i <= ents.length; i++) ends.add(m.encodeDirentsAttr(ents.slice(0, i)).length);
    for (let n = 1; n < bytes.length; n++) {
      if (ends.has(n)) continue;
      expect(() => m.decodeDirentsAttr(bytes.subarray(0, n))).toThrow(DecodeError);
    }
    // A forged target length past the data.
    const forged = bytes.slice();
    const at = 13 + 8 + 1 + 2 + 2 + 100;
    forged[at] = 0xff; forged[at + 1] = 0xff;
    expect(() => m.decodeDirentsAttr(forged)).toThrow(DecodeError);
  });

  it('every truncation and every padding of a valid message is a DecodeError', () => {
    for (const msg of validMessages()) {
      for (let n = 0; n < msg.length; n++) {
        const cut = msg.slice(0, n);
        expect(() => m.decodeMessage(cut)).toThrow(DecodeError);
        // Size field kept in step with the cut: the fields themselves then run short.
        if (n >= 7) {
          new DataView(cut.buffer).setUint32(0, n, true);
          const hasFields = (m.SCHEMA.get(msg[4])!).length > 0;
          if (hasFields) expect(() => m.decodeMessage(cut)).toThrow(DecodeError);
        }
      }
      const padded = new Uint8Array(msg.length + 1);
      padded.set(msg);
      new DataView(padded.buffer).setUint32(0, padded.length, true);
      expect(() => m.decodeMessage(padded)).toThrow(DecodeError);
    }
  });

  it('a string or data count past the end is a DecodeError', () => {
    const r = m.encodeMessage(m.Rreadlink, 1, { target: 'abc' });
    new DataView(r.buffer).setUint16(7, 0xffff, true);
    expect(() => m.decodeMessage(r)).toThrow(DecodeError);
    const d = m.encodeMessage(m.Rread, 1, { data: new Uint8Array(4) });
    new DataView(d.buffer).setUint32(7, 0xffffffff, true);
    expect(() => m.decodeMessage(d)).toThrow(DecodeError);
    const w = m.encodeMessage(m.Rwalk, 1, { qids: [] });
    new DataView(w.buffer).setUint16(7, 17, true);
    expect(() => m.decodeMessage(w)).toThrow(DecodeError);
    expect(() => m.decodeMessage(new Uint8Array([7, 0, 0, 0, 250, 0, 0]))).toThrow(DecodeError);
  });

  it('fuzz: mutated valid messages and random bytes decode or throw DecodeError only (seed 9)', () => {
    const next = rng(9);
    const valid = validMessages();
    let decoded = 0, rejected = 0;
    for (let i = 0; i < 40000; i++) {
      let b: Uint8Array;
      if (i % 4 === 0) {
        b = new Uint8Array(next() % 64);
        for (let j = 0; j < b.length; j++) b[j] = next() & 0xff;
        if (b.length >= 4 && next() % 2) new DataView(b.buffer).setUint32(0, b.length, true);
      } else {
        b = valid[next() % valid.length].slice();
        const flips = 1 + (next() % 4);
        for (let k = 0; k < flips; k++) b[next() % b.length] = next() & 0xff;
        if (next() % 2) new DataView(b.buffer).setUint32(0, b.length, true);
      }
      try {
        const msg = m.decodeMessage(b);
        expect(m.SCHEMA.has(msg.type)).toBe(true);
        decoded++;
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        rejected++;
      }
      try { m.decodeDirents(b); } catch (e) { if (!(e instanceof DecodeError)) throw e; }
      try { m.decodeDirentsAttr(b); } catch (e) { if (!(e instanceof DecodeError)) throw e; }
    }
    // Both outcomes are exercised: the fuzz is not all rejects nor all accepts.
    expect(decoded).toBeGreaterThan(1000);
    expect(rejected).toBeGreaterThan(1000);
  });
});

/** The scripted transport, remembering whether the client closed it. */
class FakeTransport extends ScriptedTransport {
  closed = false;
  override close(): void { this.closed = true; }
}

const reply = p9Reply;

function versioned(serve: (req: m.Message) => Received[]): { c: Client; t: FakeTransport; closedFds: number[] } {
  const t = new FakeTransport((req) => req.type === m.Tversion
    ? [reply(m.Rversion, m.NOTAG, { msize: 8192, version: '9P2000.L' })]
    : serve(req));
  const closedFds: number[] = [];
  const c = new Client(t, { closeFd: (fd) => closedFds.push(fd) });
  c.version();
  return { c, t, closedFds };
}

function errnoOf(f: () => unknown): number {
  try { f(); } catch (e) {
    if (e instanceof SyscallError) return e.errno;
    throw e;
  }
  throw new Error('no error');
}

describe('9P client', () => {
  it('negotiates msize and refuses another protocol', () => {
    const { c } = versioned(() => []);
    expect(c.msize).toBe(8192);
    const t = new FakeTransport(() => [reply(m.Rversion, m.NOTAG, { msize: 8192, version: 'unknown' })]);
    expect(errnoOf(() => new Client(t, { closeFd: () => {} }).version())).toBe(EIO);
  });

  it('Rlerror is its errno; an out-of-range ecode is EIO', () => {
    const { c } = versioned((req) => [reply(m.Rlerror, req.tag, { ecode: req.type === m.Twalk ? ENOENT : 99999 })]);
    expect(errnoOf(() => c.walk(1, ['x']))).toBe(ENOENT);
    expect(errnoOf(() => c.readlink(1))).toBe(EIO);
  });

  it('a reply of the wrong type, a malformed one or a dead transport is EIO, and breaks the client', () => {
    let mode = 0;
    const { c, closedFds } = versioned((req) => {
      if (mode === 0) return [reply(m.Rclunk, req.tag, {})];
      return [{ msg: new Uint8Array([9, 0, 0, 0, m.Rreadlink, req.tag & 0xff, req.tag >> 8, 0xff, 0xff]), fds: [77] }];
    });
    expect(errnoOf(() => c.readlink(1))).toBe(EIO); // wrong type: tolerated, the stream is in step
    mode = 1;
    expect(errnoOf(() => c.readlink(1))).toBe(EIO);
    expect(closedFds).toContain(77);
    expect(errnoOf(() => c.readlink(1))).toBe(EIO);
  });

  it('walk allocates and frees fids; a partial walk is ENOENT and leaves no fid behind', () => {
    const { c, t } = versioned((req) => {
      if (req.type === m.Twalk) {
        const names = req.fields.names as string[];
        const n = names.includes('missing') ? names.indexOf('missing') : names.length;
        return [reply(m.Rwalk, req.tag, { qids: Array(n).fill(qid) })];
      }
      return [reply(req.type + 1, req.tag, {})];
    });
    const a = c.walk(1, ['a', 'b']);
    expect(a.qids.length).toBe(2);
    expect(errnoOf(() => c.walk(1, ['a', 'missing']))).toBe(ENOENT);
    const b = c.walk(1, ['c']);
    expect(b.fid).not.toBe(a.fid);
    // 20 names go as two Twalks, the intermediate fid clunked.
    const long = c.walk(1, Array(20).fill('d'));
    expect(long.qids.length).toBe(20);
    const walks = t.sent.filter((x) => x.type === m.Twalk);
    expect((walks[walks.length - 1].fields.names as string[]).length).toBe(4);
    expect(t.sent[t.sent.length - 1].type).toBe(m.Tclunk);
  });

  it('keeps the fd donated with Rlopen and closes fds that come with anything else', () => {
    const { c, closedFds } = versioned((req) => [req.type === m.Tlopen
      ? reply(m.Rlopen, req.tag, { qid, iounit: 0 }, [50, 51])
      : reply(m.Rlerror, req.tag, { ecode: EACCES }, [60])]);
    expect(c.lopen(1, 0).fd).toBe(50);
    expect(closedFds).toEqual([51]);
    expect(errnoOf(() => c.lcreate(1, 'x', 0, 0o644, 0))).toBe(EACCES);
    expect(closedFds).toEqual([51, 60]);
  });

  it('several requests in flight: replies out of order reach their own tags; flush drops one', () => {
    const held: Received[] = [];
    const { c, t } = versioned((req) => {
      if (req.type === m.Tflush) return [...held.splice(0), reply(m.Rflush, req.tag, {})];
      const r = reply(m.Rreadlink, req.tag, { target: `t${req.fields.fid as number}` });
      if (req.fields.fid === 2) { held.push(r); return []; }
      return [r];
    });
    const sentBefore = t.sent.length;
    const t1 = c.start(m.Treadlink, { fid: 1 });
    const t2 = c.start(m.Treadlink, { fid: 2 });
    const t3 = c.start(m.Treadlink, { fid: 3 });
    expect(new Set([t1, t2, t3]).size).toBe(3);
    expect(t.sent.length).toBe(sentBefore); // queued until a reply is awaited
    // t1's reply comes first and waits while t3 is finished.
    expect(c.finish(t3).msg.fields.target).toBe('t3');
    expect(t.sent.length).toBe(sentBefore + 3); // all three went out together
    expect(c.finish(t1).msg.fields.target).toBe('t1');
    c.flush(t2); // its reply arrives before the Rflush and is dropped
    expect(errnoOf(() => c.finish(t2))).toBe(EIO);
    expect(c.readlink(9)).toBe('t9'); // the client is still usable
  });

  it('a reply for a tag nobody asked is EIO', () => {
    const { c } = versioned((req) => [reply(m.Rreadlink, (req.tag + 1) & 0xffff, { target: 'x' })]);
    expect(errnoOf(() => c.readlink(1))).toBe(EIO);
  });

  it('fuzz: the client survives any reply bytes from a fixed seed (seed 19)', () => {
    const next = rng(19);
    const valid = validMessages();
    for (let i = 0; i < 3000; i++) {
      const { c } = versioned((req) => {
        const b = valid[next() % valid.length].slice();
        b[5] = req.tag & 0xff; b[6] = req.tag >> 8;
        for (let k = next() % 3; k > 0; k--) b[7 + (next() % Math.max(1, b.length - 7))] = next() & 0xff;
        return [{ msg: b, fds: [] }];
      });
      const ops = [() => c.walk(1, ['a']), () => c.getattr(1), () => c.readdir(1, 0n), () => c.lopen(1, 0),
        () => c.read(1, 0, 100), () => c.statfs(1), () => c.getlock(1, 0, 0, 0, 0, '')];
      try { ops[i % ops.length](); } catch (e) {
        if (!(e instanceof SyscallError)) throw e;
      }
    }
  });
});

describe('u64 and i64 fields without BigInt', () => {
  it('decode as BigInt arithmetic would, and a u64 past 2^53 is a DecodeError', async () => {
    const { Decoder } = await import('../../../ts/p9/wire');
    let s = 0x9e3779b9;
    const next = (): number => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s; };
    const edges = [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];
    const values = [...edges, ...Array.from({ length: 3000 }, () => (BigInt(next()) << 32n) | BigInt(next()))];
    for (const v of values) {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, v, true);
      expect(new Decoder(b).i64()).toBe(Number(BigInt.asIntN(64, v)));
      if (v <= BigInt(Number.MAX_SAFE_INTEGER)) expect(new Decoder(b).u64()).toBe(Number(v));
      else expect(() => new Decoder(b).u64()).toThrow(DecodeError);
    }
  });
});

describe('the shared request encoder', () => {
  it('a message after a large one (or after a failed encode) is whole and alone', () => {
    const data = new Uint8Array(200_000).map((_, i) => i & 0xff);
    const big = m.encodeMessage(m.Twrite, 3, { fid: 1, offset: 0, data });
    expect(() => m.encodeMessage(m.Twalk, 4, { fid: 1, newfid: 2 })).toThrow(RangeError);
    const small = m.encodeMessage(m.Tclunk, 5, { fid: 9 });
    expect(small.length).toBe(11);
    expect(m.decodeMessage(small)).toEqual({ type: m.Tclunk, tag: 5, fields: { fid: 9 } });
    expect((m.decodeMessage(big).fields.data as Uint8Array).every((b, i) => b === (i & 0xff))).toBe(true);
  });
});
