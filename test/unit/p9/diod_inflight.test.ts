// Requests in flight against diod (a server with a thread per request, not ours): an open of
// a FIFO blocks in the server; with Client.callAsync the sentry's thread does
// not wait for them, other requests go and come back first (replies matched by tag, out of
// order), and the blocked one finishes when the host side of the FIFO moves. An interrupted
// open sends Tflush: its outcome is the open if the reply beat the Rflush, else the
// caller's error, and the connection stays usable either way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { haveDiod, startDiod, type Diod } from '../../helpers/diod';
import { skipBecause } from '../../helpers/run';
import * as m from '../../../ts/p9/messages';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { EINTR } from '../../../ts/abi/linux/errno';
import type { Client } from '../../../ts/p9/client';

const O_RDONLY = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skipBecause(!haveDiod, 'diod is not installed (/usr/sbin/diod)'))('9P requests in flight against diod', () => {
  let dir: string;
  let d: Diod;
  let c: Client;
  let root: number;
  let fifo: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-diod-inflight-'));
    fs.writeFileSync(path.join(dir, 'plain'), 'plain file\n');
    fifo = path.join(dir, 'ff');
    execFileSync('mkfifo', [fifo]);
    d = startDiod(dir);
    c = d.client;
    root = c.attach(dir, 'root', 0).fid;
  });
  afterAll(() => {
    d?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a FIFO open blocks in diod while other requests are answered, and ends when the host writer comes', async () => {
    const f = c.walk(root, ['ff']).fid;
    let opened = false;
    const open = c.callAsync(m.Tlopen, { fid: f, flags: O_RDONLY }).then((r) => { opened = true; return r; });
    // diod's thread for the open waits for a writer; other requests are served meanwhile.
    await sleep(100);
    for (let i = 0; i < 5; i++) expect(c.getattr(root).qid.type & 0x80).toBe(0x80);
    const p = c.walk(root, ['plain']).fid;
    c.lopen(p, O_RDONLY);
    expect(Buffer.from(c.read(p, 0, 100)).toString()).toBe('plain file\n');
    c.clunk(p);
    expect(opened).toBe(false);
    // The host opens the writing end: diod's open returns, and so does ours.
    const w = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    try {
      const r = await open;
      expect(r.msg.type).toBe(m.Rlopen);
      // (diod reads with pread: a FIFO's Tread is ESPIPE there, so the open is what blocks.)
    } finally {
      fs.closeSync(w);
      c.clunk(f);
    }
  });

  it('an interrupted open is flushed: opened if the reply came first, else EINTR; the connection goes on', async () => {
    const f = c.walk(root, ['ff']).fid;
    let interrupt!: () => void;
    const opening = c.callAsync(m.Tlopen, { fid: f, flags: O_RDONLY }, new Promise<void>((r) => { interrupt = r; }), () => new SyscallError(EINTR))
      .then((x) => ({ type: x.msg.type }), (e: unknown) => ({ errno: e instanceof SyscallError ? e.errno : -1 }));
    await sleep(100);
    interrupt();
    // diod may answer the flush at once or only once its open ends: the host opens the
    // writing end so that the open ends either way.
    await sleep(200);
    const w = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    try {
      const out = await opening;
      if ('errno' in out) expect(out.errno).toBe(EINTR);
      else expect(out.type).toBe(m.Rlopen);
      // The connection is in step: requests are answered, by their own replies.
      expect(c.getattr(root).qid.type & 0x80).toBe(0x80);
      const p = c.walk(root, ['plain']).fid;
      c.lopen(p, O_RDONLY);
      expect(Buffer.from(c.read(p, 0, 5)).toString()).toBe('plain');
      c.clunk(p);
      console.log(`diod flush outcome: ${JSON.stringify(out)}`);
    } finally {
      fs.closeSync(w);
      c.clunk(f);
    }
  });
});
