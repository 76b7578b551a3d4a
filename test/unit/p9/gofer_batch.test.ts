// Replies to a pipelined batch come back from tsvisor-gofer in one write and are read in one
// crossing (SocketTransport reads what the socket has and splits it); the fd the gofer donates
// with Rlopen must land on that reply and on no other, wherever it sits in the batch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GoferProcess, goferBinary } from '../../../ts/fsimpl/gofer/gofer_process';
import * as m from '../../../ts/p9/messages';
import { GETATTR_BASIC } from '../../../ts/p9/client';
import { addon } from '../../../ts/native/addon';
import { skipBecause } from '../../helpers/run';

const binary = goferBinary();

describe.skipIf(skipBecause(binary === null, 'build/tsvisor-gofer is not built (npm run build:gofer)'))('pipelined replies over tsvisor-gofer', () => {
  let dir: string;
  let g: GoferProcess;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-batch-'));
    for (let i = 0; i < 3; i++) fs.writeFileSync(path.join(dir, `f${i}`), `file ${i}\n`);
    g = new GoferProcess(binary!, [{ name: 't', hostDir: dir, readOnly: true }]);
  });
  afterAll(() => {
    g?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('each donated fd comes with its own Rlopen, between replies that carry none', () => {
    const c = g.session.client;
    const { fid } = c.attach('t', '', 0);
    // getattr x2, then per file walk + lopen + getattr, all in one write.
    const tags: { tag: number; kind: string; file?: number }[] = [];
    tags.push({ tag: c.start(m.Tgetattr, { fid, mask: GETATTR_BASIC }), kind: 'getattr' });
    tags.push({ tag: c.start(m.Tgetattr, { fid, mask: GETATTR_BASIC }), kind: 'getattr' });
    const fids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const nf = c.allocFid();
      fids.push(nf);
      tags.push({ tag: c.start(m.Twalk, { fid, newfid: nf, names: [`f${i}`] }), kind: 'walk' });
      tags.push({ tag: c.start(m.Tlopen, { fid: nf, flags: 0 }), kind: 'open', file: i });
      tags.push({ tag: c.start(m.Tgetattr, { fid: nf, mask: GETATTR_BASIC }), kind: 'getattr' });
    }
    // Finish in reverse order: replies that came first are kept until asked for.
    const got = [...tags].reverse().map((t) => ({ ...t, r: c.finish(t.tag) }));
    for (const t of got) {
      if (t.kind !== 'open') { expect(t.r.fds, t.kind).toEqual([]); continue; }
      expect(t.r.fds.length).toBe(1);
      const buf = Buffer.alloc(32);
      const n = fs.readSync(t.r.fds[0], buf, 0, 32, 0);
      expect(buf.subarray(0, n).toString()).toBe(`file ${t.file}\n`);
      addon().p9Close(t.r.fds[0]);
    }
    for (const f of fids) c.clunkLater(f);
  });
});
