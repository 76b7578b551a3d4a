// The addon's 9P transport against a hostile peer on a real socketpair: a size field out of
// range (EPROTO), a reply cut short by EOF (ECONNRESET), a peer that never answers (ETIMEDOUT
// at the deadline) — each an EIO from the client, which then stays broken (the stream is out
// of step) instead of reading garbage as the next reply. Random byte streams from a fixed seed
// end the same way, never in an exception of another kind.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { addon } from '../../../ts/native/addon';
import { Client } from '../../../ts/p9/client';
import { SocketTransport } from '../../../ts/p9/transport';
import * as m from '../../../ts/p9/messages';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { EIO } from '../../../ts/abi/linux/errno';

function pair(timeoutMs = 2000): { c: Client; peer: number; close: () => void } {
  const [mine, peer] = addon().p9Socketpair();
  const c = new Client(new SocketTransport(mine, timeoutMs), { closeFd: (fd) => fs.closeSync(fd) });
  return { c, peer, close: () => { c.close(); try { fs.closeSync(peer); } catch { /* closed */ } } };
}

function errnoOf(f: () => unknown): number {
  try { f(); } catch (e) { if (e instanceof SyscallError) return e.errno; throw e; }
  throw new Error('no error');
}

const rversion = m.encodeMessage(m.Rversion, m.NOTAG, { msize: 8192, version: '9P2000.L' });

describe('9P transport', () => {
  it('a whole reply is received, and the request reached the peer intact', () => {
    const { c, peer, close } = pair();
    fs.writeSync(peer, rversion); // answered before asked: it waits in the socket
    c.version();
    const got = Buffer.alloc(64);
    const n = fs.readSync(peer, got);
    expect(m.decodeMessage(got.subarray(0, n)).type).toBe(m.Tversion);
    close();
  });

  it('a size past msize is EIO, and the client stays broken', () => {
    const { c, peer, close } = pair();
    fs.writeSync(peer, rversion);
    c.version();
    const huge = Buffer.from([0xff, 0xff, 0xff, 0x7f, m.Rreadlink, 0, 0]);
    fs.writeSync(peer, huge);
    expect(errnoOf(() => c.readlink(1))).toBe(EIO);
    fs.writeSync(peer, m.encodeMessage(m.Rreadlink, 0, { target: 'x' }));
    expect(errnoOf(() => c.readlink(1))).toBe(EIO);
    close();
  });

  it('a size below the header is EIO', () => {
    const { c, peer, close } = pair();
    fs.writeSync(peer, Buffer.from([3, 0, 0, 0]));
    expect(errnoOf(() => c.version())).toBe(EIO);
    close();
  });

  it('EOF in the middle of a reply is EIO', () => {
    const { c, peer, close } = pair();
    fs.writeSync(peer, rversion.subarray(0, 10));
    fs.closeSync(peer);
    expect(errnoOf(() => c.version())).toBe(EIO);
    close();
  });

  it('a peer that never answers is EIO at the deadline', () => {
    const { c, close } = pair(300);
    const t0 = Date.now();
    expect(errnoOf(() => c.version())).toBe(EIO);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    close();
  });

  it('fuzz: random byte streams from a fixed seed end in EIO or a decoded reply (seed 41)', () => {
    let s = 41;
    const next = (): number => (s = (s * 1664525 + 1013904223) >>> 0);
    for (let i = 0; i < 200; i++) {
      const { c, peer, close } = pair(200);
      fs.writeSync(peer, rversion);
      c.version();
      const len = next() % 40;
      const b = Buffer.alloc(len);
      for (let j = 0; j < len; j++) b[j] = next() & 0xff;
      if (len >= 7 && next() % 2) { b.writeUInt32LE(len, 0); b[5] = 0; b[6] = 0; }
      fs.writeSync(peer, b);
      try { c.readlink(1); } catch (e) { expect(e).toBeInstanceOf(SyscallError); }
      close();
    }
  });
});
