// The built tsvisor-gofer spawned as the sentry spawns it (its socket on fd 3, trees named on
// the command line), driven by a tiny 9P2000.L encoder of this test's own (not ts/p9's client):
// the read side, read-only refusals, confinement seen from /proc, and exit on EOF. Fd donation
// itself is checked by the cargo tests (crates/gofer/tests), which can receive SCM_RIGHTS.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';

const GOFER = resolve(__dirname, '../../../build/tsvisor-gofer');

class P9 {
  private buf = Buffer.alloc(0);
  private waiters: Array<(m: Buffer) => void> = [];
  private tag = 0;
  constructor(private sock: Duplex) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4 && this.buf.length >= this.buf.readUInt32LE(0)) {
        const n = this.buf.readUInt32LE(0);
        const m = this.buf.subarray(0, n);
        this.buf = this.buf.subarray(n);
        this.waiters.shift()?.(m);
      }
    });
  }
  async rpc(type: number, body: Buffer): Promise<{ type: number; body: Buffer }> {
    const tag = (this.tag = (this.tag + 1) % 0xffff);
    const hdr = Buffer.alloc(7);
    hdr.writeUInt32LE(7 + body.length, 0);
    hdr.writeUInt8(type, 4);
    hdr.writeUInt16LE(tag, 5);
    const reply = new Promise<Buffer>((res) => this.waiters.push(res));
    this.sock.write(Buffer.concat([hdr, body]));
    const m = await reply;
    expect(m.readUInt16LE(5)).toBe(tag);
    return { type: m.readUInt8(4), body: m.subarray(7) };
  }
  /** Ok body, or the errno of Rlerror as a number. */
  async call(type: number, body: Buffer): Promise<Buffer | number> {
    const r = await this.rpc(type, body);
    if (r.type === 7) return r.body.readUInt32LE(0);
    expect(r.type).toBe(type + 1);
    return r.body;
  }
}

const u8 = (v: number) => Buffer.from([v]);
const u16 = (v: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; };
const u64 = (v: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(v); return b; };
const str = (s: string) => { const b = Buffer.from(s); return Buffer.concat([u16(b.length), b]); };
const msg = (...parts: Buffer[]) => Buffer.concat(parts);

const EBADF = 9, EIO = 5, ENOENT = 2, EINVAL = 22, EROFS = 30, ELOOP = 40;

let child: ChildProcess | undefined;
afterEach(() => { child?.kill('SIGKILL'); child = undefined; });

function start(trees: string[]): { p9: P9; proc: ChildProcess; log: string } {
  const log = join(mkdtempSync(join(tmpdir(), 'gofer-log-')), 'log');
  const args = ['--sock-fd', '3', '--debug-log', log];
  for (const t of trees) args.push('--tree', t);
  const proc = spawn(GOFER, args, { stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
  child = proc;
  return { p9: new P9(proc.stdio[3] as Duplex), proc, log };
}

function walk(fid: number, newfid: number, names: string[]): Buffer {
  return msg(u32(fid), u32(newfid), u16(names.length), ...names.map(str));
}

describe('tsvisor-gofer, spawned like the sentry spawns it', () => {
  it('is built by npm run build', () => {
    expect(existsSync(GOFER)).toBe(true);
  });

  it('serves a read-only tree: version, attach, walk, getattr, lopen, read, readdir, readlink', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gofer-tree-'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'hello'), 'hello from the host\n');
    const { symlinkSync } = await import('node:fs');
    symlinkSync('/etc/passwd', join(dir, 'pw'));
    const { p9, proc, log } = start([`root=${dir}:ro`]);

    const v = (await p9.call(100, msg(u32(1 << 20), str('9P2000.L')))) as Buffer;
    expect(v.readUInt32LE(0)).toBe(1 << 20);
    expect(await p9.call(104, msg(u32(1), u32(0xffffffff), str('u'), str('nope'), u32(0)))).toBe(ENOENT);
    const a = (await p9.call(104, msg(u32(1), u32(0xffffffff), str('u'), str('root'), u32(0)))) as Buffer;
    expect(a.readUInt8(0)).toBe(0x80);
    const w = (await p9.call(110, walk(1, 2, ['sub', 'hello']))) as Buffer;
    expect(w.readUInt16LE(0)).toBe(2);
    const ga = (await p9.call(24, msg(u32(2), u64(0x3fffn)))) as Buffer;
    expect(ga.readBigUInt64LE(8 + 13 + 12 + 16)).toBe(20n); // size after valid, qid, mode/uid/gid, nlink, rdev
    const lo = (await p9.call(12, msg(u32(2), u32(0)))) as Buffer;
    expect(lo.readUInt32LE(13)).toBe((1 << 20) - 24);
    const rd = (await p9.call(116, msg(u32(2), u64(0n), u32(100)))) as Buffer;
    expect(rd.subarray(4, 4 + rd.readUInt32LE(0)).toString()).toBe('hello from the host\n');
    expect(await p9.call(12, msg(u32(2), u32(0)))).toBe(EINVAL); // opened twice
    expect(((await p9.call(110, walk(2, 3, []))) as Buffer).readUInt16LE(0)).toBe(0); // from an opened fid, as diod
    expect(await p9.call(116, msg(u32(3), u64(0n), u32(1)))).toBe(EBADF); // the clone is not opened

    await p9.call(110, walk(1, 4, ['sub']));
    await p9.call(12, msg(u32(4), u32(0)));
    const rdd = (await p9.call(40, msg(u32(4), u64(0n), u32(4096)))) as Buffer;
    const names: string[] = [];
    for (let p = 4; p < 4 + rdd.readUInt32LE(0);) {
      p += 13 + 8 + 1;
      const n = rdd.readUInt16LE(p);
      names.push(rdd.subarray(p + 2, p + 2 + n).toString());
      p += 2 + n;
    }
    expect(names.sort()).toEqual(['.', '..', 'hello']);

    await p9.call(110, walk(1, 5, ['pw']));
    const rl = (await p9.call(22, u32(5))) as Buffer;
    expect(rl.subarray(2).toString()).toBe('/etc/passwd');
    expect(await p9.call(12, msg(u32(5), u32(0)))).toBe(ELOOP);
    const up = (await p9.call(110, walk(1, 6, ['..', '..']))) as Buffer; // `..` at the root stays there
    expect(up.readUInt16LE(0)).toBe(2);
    expect(up.readBigUInt64LE(2 + 5)).toBe(a.readBigUInt64LE(5));
    expect(await p9.call(110, walk(1, 60, ['a/b']))).toBe(EINVAL);

    // read-only: write opens and creation refused
    await p9.call(110, walk(1, 7, ['sub', 'hello']));
    expect(await p9.call(12, msg(u32(7), u32(2)))).toBe(EROFS);
    expect(await p9.call(72, msg(u32(1), str('d'), u32(0o755), u32(0)))).toBe(EROFS);
    expect(readdirSync(dir).sort()).toEqual(['pw', 'sub']);

    // clunk, then the fid is gone
    await p9.call(120, u32(2));
    expect(await p9.call(120, u32(2))).toBe(EIO);

    // confined: seccomp filter, no new privileges, its own mount namespace
    const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
    expect(status).toMatch(/^Seccomp:\s+2$/m);
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(readlinkSync(`/proc/${proc.pid}/ns/mnt`)).not.toBe(readlinkSync('/proc/self/ns/mnt'));
    expect(readFileSync(log, 'utf8')).toMatch(/confine: (pivot_root|chroot|no mount namespace)/);

    // EOF on the socket: the gofer exits 0
    const exited = new Promise<number | null>((res) => proc.on('exit', (code) => res(code)));
    (proc.stdio[3] as Duplex).end();
    expect(await exited).toBe(0);
  });

  it('refuses bad command lines with status 2', async () => {
    for (const args of [[], ['--sock-fd', '3'], ['--sock-fd', '3', '--tree', 'r=relative'], ['--bogus']]) {
      const p = spawn(GOFER, args, { stdio: 'ignore' });
      const code = await new Promise<number | null>((res) => p.on('exit', (c) => res(c)));
      expect(code).toBe(2);
    }
  });
});
