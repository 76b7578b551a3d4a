// Read-ahead for a server that donates no fd (P9Data, every byte a Tread): sequential reads
// grow the window and send a window's Treads together, random ones ask for what they read;
// what was read ahead is shared by the file's opens, dropped by a write or a truncation
// through the sandbox, and asked again once the session's window is over. Against diod (the
// server this is for), and Client.readMany against forged replies (a parser boundary: short,
// failed, out-of-order and oversized Rreads; no tag left in flight).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { haveDiod, startDiod, type Diod } from '../../helpers/diod';
import { skipBecause } from '../../helpers/run';
import { ScriptedTransport, p9Reply } from '../../helpers/p9_fake_transport';
import { Client } from '../../../ts/p9/client';
import * as m from '../../../ts/p9/messages';
import type { Received } from '../../../ts/p9/transport';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { EIO, ENOENT } from '../../../ts/abi/linux/errno';
import { GoferSession, type GoferNode } from '../../../ts/fsimpl/gofer/session';
import { GoferLowerFS } from '../../../ts/fsimpl/gofer/gofer_lower';
import { GoferFS, type GoferInode } from '../../../ts/fsimpl/gofer/gofer_fs';
import { P9Data, MAX_READ_AHEAD } from '../../../ts/fsimpl/gofer/p9_data';
import type { NativeMemoryFile } from '../../../ts/native/addon';

const SIZE = 4 << 20;
const pattern = (n: number): Buffer => { const b = Buffer.alloc(n); for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 12)) & 0xff; return b; };

/** Treads the client sends, counted at the transport (each write may carry several). */
function countTreads(c: Client): { treads: () => number; writes: () => number } {
  let treads = 0, writes = 0;
  const t = (c as unknown as { t: { send(b: Uint8Array): void; call(b: Uint8Array, n: number): unknown } }).t;
  const count = (b: Uint8Array): void => {
    writes++;
    for (let at = 0; at + 5 <= b.length;) {
      const size = new DataView(b.buffer, b.byteOffset + at).getUint32(0, true);
      if (b[at + 4] === m.Tread) treads++;
      at += size;
    }
  };
  const send = t.send.bind(t), call = t.call.bind(t);
  t.send = (b) => { count(b); send(b); };
  t.call = (b, n) => { count(b); return call(b, n); };
  return { treads: () => treads, writes: () => writes };
}

describe.skipIf(skipBecause(!haveDiod, 'diod is not installed (/usr/sbin/diod)'))('read-ahead over diod', () => {
  let dir: string;
  let d: Diod;
  let s: GoferSession;
  let lower: GoferLowerFS;
  const want = pattern(SIZE);

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-readahead-'));
    fs.writeFileSync(path.join(dir, 'big'), want);
    d = startDiod(dir);
    s = new GoferSession(d.client);
    s.ttlMs = 60_000; // a crowded host must not age what was read ahead mid-test
    lower = new GoferLowerFS(s, dir);
  });
  afterAll(() => {
    d?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('sequential 4 KiB reads: the whole file, right, in a few dozen writes instead of one per read', () => {
    const node = lower.walk(lower.root, 'big')!;
    const data = lower.open(node);
    expect(data).toBeInstanceOf(P9Data);
    const n = countTreads(s.client);
    const got = Buffer.alloc(SIZE);
    const buf = new Uint8Array(4096);
    for (let off = 0; off < SIZE; off += 4096) {
      expect(data.pread(buf, off)).toBe(4096);
      got.set(buf, off);
    }
    expect(data.pread(buf, SIZE)).toBe(0);
    // Read to its end: nothing kept.
    expect(node.readAhead).toBeNull();
    data.pread(buf, 0);
    data.pread(buf, 4096);
    expect(node.readAhead?.offset).toBe(8192);
    data.release();
    // Nor once closed.
    expect(node.readAhead).toBeNull();
    expect(got.equals(want)).toBe(true);
    // 1024 reads; without read-ahead each was a write of its own.
    expect(n.writes()).toBeLessThan(1024 / 8);
    // Never more than a window past the end of what was read.
    expect(n.treads() * s.client.maxIO).toBeLessThan(SIZE + 2 * MAX_READ_AHEAD + 2 * s.client.maxIO);
  });

  it('random reads ask for what they read only: one Tread each', () => {
    const node = lower.walk(lower.root, 'big')!;
    node.readAhead = null;
    const data = lower.open(node);
    const n = countTreads(s.client);
    const buf = new Uint8Array(4096);
    let x = 7;
    for (let i = 0; i < 200; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      // Never the block after the last one (that read would be sequential).
      const off = ((x % 500) * 2 + (i % 2)) * 4096 + 100;
      expect(data.pread(buf, off)).toBe(4096);
      expect(Buffer.from(buf).equals(want.subarray(off, off + 4096))).toBe(true);
    }
    data.release();
    expect(n.treads()).toBe(200);
  });

  it('a write or truncation through the sandbox drops what was read ahead; the host\'s change shows after the window', () => {
    fs.writeFileSync(path.join(dir, 'w'), pattern(256 << 10));
    const gfs = new GoferFS(s, dir, 0, null as unknown as NativeMemoryFile);
    const file = gfs.root.lookup('w') as GoferInode;
    const node: GoferNode = file.node;
    const reader = new P9Data(s.client, s.client.walk(s.fidOf(node), []).fid, node);
    s.client.lopen((reader as unknown as { fid: number }).fid, 0);
    const writerFid = s.client.walk(s.fidOf(node), []).fid;
    s.client.lopen(writerFid, 2);
    const writer = new P9Data(s.client, writerFid, node);
    const buf = new Uint8Array(4096);
    for (const off of [0, 4096, 8192]) reader.pread(buf, off);
    expect(node.readAhead?.offset).toBe(12288);
    // Another open of the same file writes where the read-ahead holds bytes.
    writer.pwrite(new TextEncoder().encode('NEW!'), 16384);
    expect(node.readAhead).toBeNull();
    reader.pread(buf, 12288);
    reader.pread(buf, 16384);
    expect(new TextDecoder().decode(buf.subarray(0, 4))).toBe('NEW!');
    expect(node.readAhead).not.toBeNull();
    file.setattr({ size: 20480 + 100 });
    expect(node.readAhead).toBeNull();
    expect(reader.pread(buf, 20480)).toBe(100);
    // The host rewrites the file in place: within the window the kept bytes stand, after it
    // the server is asked again.
    fs.writeFileSync(path.join(dir, 'w'), Buffer.alloc(256 << 10, 'h'));
    reader.pread(buf, 0);
    reader.pread(buf, 4096);
    expect(node.readAhead).not.toBeNull();
    node.readAhead!.data.fill(0x2a); // what the server said then, as the test sees it
    node.readAhead!.at -= s.ttlOf(node) + 1;
    reader.pread(buf, 8192);
    expect(String.fromCharCode(buf[0])).toBe('h');
    reader.release();
    writer.release();
  });
});

describe('Client.readMany against forged replies', () => {
  type Answer = (req: m.Message) => Received[];
  function client(answer: Answer): { c: Client; t: ScriptedTransport } {
    const t = new ScriptedTransport((req) => {
      if (req.type === m.Tversion) return [p9Reply(m.Rversion, m.NOTAG, { msize: 8192 + 24, version: '9P2000.L' })];
      return answer(req);
    });
    const c = new Client(t, { closeFd: () => {} });
    c.version();
    return { c, t };
  }
  const bytes = (off: number, n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (off + i) & 0xff);
  const rread = (req: m.Message, n = req.fields.count as number): Received =>
    p9Reply(m.Rread, req.tag, { data: bytes(req.fields.offset as number, n) });
  const errnoOf = (f: () => unknown): number | string => {
    try { f(); return 'no error'; } catch (e) { return e instanceof SyscallError ? e.errno : String(e); }
  };
  const inflight = (c: Client): number => (c as unknown as { inflight: Map<number, number> }).inflight.size;

  it('whole, in one write, replies in any order', () => {
    const held: m.Message[] = [];
    const { c, t } = client((req) => { held.push(req); return held.length === 4 ? held.reverse().map((r) => rread(r)) : []; });
    const got = c.readMany(1, 100, 4 * 8192);
    expect(Buffer.from(got).equals(Buffer.from(bytes(100, 4 * 8192)))).toBe(true);
    expect(t.sent.filter((x) => x.type === m.Tread).length).toBe(4);
    expect(inflight(c)).toBe(0);
  });

  it('stops at the first short or failed reply; fails only when nothing came; a reply longer than asked is EIO', () => {
    let k = 0;
    const short = client((req) => [rread(req, ++k === 2 ? 10 : undefined)]);
    expect(short.c.readMany(1, 0, 3 * 8192).length).toBe(8192 + 10);
    k = 0;
    const failSecond = client((req) => [++k === 2 ? p9Reply(m.Rlerror, req.tag, { ecode: ENOENT }) : rread(req)]);
    expect(failSecond.c.readMany(1, 0, 3 * 8192).length).toBe(8192);
    expect(inflight(failSecond.c)).toBe(0);
    const failFirst = client((req) => [req.fields.offset === 0 ? p9Reply(m.Rlerror, req.tag, { ecode: ENOENT }) : rread(req)]);
    expect(errnoOf(() => failFirst.c.readMany(1, 0, 3 * 8192))).toBe(ENOENT);
    expect(inflight(failFirst.c)).toBe(0);
    k = 0;
    const long = client((req) => [rread(req, ++k === 3 ? (req.fields.count as number) + 1 : undefined)]);
    expect(errnoOf(() => long.c.readMany(1, 0, 2 * 8192 + 5))).toBe(EIO);
    expect(long.c.readMany(1, 0, 100).length).toBe(100); // still in step
    const eof = client((req) => [rread(req, 0)]);
    expect(eof.c.readMany(1, 0, 2 * 8192).length).toBe(0);
  });
});
