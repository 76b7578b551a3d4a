// Interoperability: the 9P client against diod, a 9P2000.L server that is not ours (no fd
// donation: data travels in Tread/Twrite). Every operation the file systems use, and the
// errors diod answers with, checked against what the host tree then holds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { haveDiod, startDiod, type Diod } from '../../helpers/diod';
import { skipBecause } from '../../helpers/run';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { EEXIST, ENOENT, ENOTEMPTY, ENOTSUP } from '../../../ts/abi/linux/errno';
import { SETATTR_MODE, SETATTR_SIZE, SETATTR_MTIME, SETATTR_MTIME_SET, type Client } from '../../../ts/p9/client';

const O_RDONLY = 0, O_RDWR = 2, O_CREAT = 0o100, O_EXCL = 0o200;
const AT_REMOVEDIR = 0x200;

function errnoOf(f: () => unknown): number {
  try { f(); } catch (e) { if (e instanceof SyscallError) return e.errno; throw e; }
  throw new Error('no error');
}

describe.skipIf(skipBecause(!haveDiod, 'diod is not installed (/usr/sbin/diod)'))('9P client against diod', () => {
  let dir: string;
  let d: Diod;
  let c: Client;
  let root: number;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-diod-'));
    fs.writeFileSync(path.join(dir, 'hello.txt'), 'hello, 9p\n');
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', 'inner'), 'x'.repeat(100_000));
    d = startDiod(dir);
    c = d.client;
    root = c.attach(dir, 'root', 0).fid;
  });
  afterAll(() => {
    d?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('walk, getattr, lopen, read', () => {
    const w = c.walk(root, ['sub', 'inner']);
    expect(w.qids.length).toBe(2);
    expect(w.qids[0].type & 0x80).toBe(0x80); // QTDIR
    const a = c.getattr(w.fid);
    const st = fs.statSync(path.join(dir, 'sub', 'inner'));
    expect(a.size).toBe(100_000);
    expect(a.mode).toBe(st.mode);
    expect(BigInt(st.ino)).toBe(a.qid.path);
    expect(a.mtime.sec).toBe(Math.floor(st.mtimeMs / 1000));
    const o = c.lopen(w.fid, O_RDONLY);
    expect(o.fd).toBe(-1); // diod donates nothing
    let got = 0, off = 0;
    for (;;) {
      const b = c.read(w.fid, off, 65536);
      if (b.length === 0) break;
      expect(b.every((x) => x === 0x78)).toBe(true);
      got += b.length; off += b.length;
    }
    expect(got).toBe(100_000);
    c.clunk(w.fid);
    expect(errnoOf(() => c.walk(root, ['nope']))).toBe(ENOENT);
    expect(errnoOf(() => c.walk(root, ['sub', 'nope']))).toBe(ENOENT);
  });

  it('readdir lists every entry, resuming from the cookies', () => {
    const w = c.walk(root, []);
    c.lopen(w.fid, O_RDONLY);
    const names: string[] = [];
    let off = 0n;
    for (;;) {
      const ents = c.readdir(w.fid, off, 64); // small: forces several rounds
      if (ents.length === 0) break;
      names.push(...ents.map((e) => e.name));
      off = ents[ents.length - 1].offset;
    }
    c.clunk(w.fid);
    expect(names.sort()).toEqual(['.', '..', 'hello.txt', 'sub'].sort());
  });

  it('lcreate, write, fsync, setattr (truncate, chmod, mtime) reach the host file', () => {
    const w = c.walk(root, []);
    const o = c.lcreate(w.fid, 'new.txt', O_RDWR | O_CREAT | O_EXCL, 0o640, 0);
    expect(o.qid.type).toBe(0);
    expect(c.write(w.fid, 0, new TextEncoder().encode('written through 9p'))).toBe(18);
    c.fsync(w.fid);
    expect(fs.readFileSync(path.join(dir, 'new.txt'), 'utf8')).toBe('written through 9p');
    c.setattr(w.fid, { valid: SETATTR_SIZE | SETATTR_MODE | SETATTR_MTIME | SETATTR_MTIME_SET, size: 7, mode: 0o600, mtime: { sec: 1000000, nsec: 5 } });
    const st = fs.statSync(path.join(dir, 'new.txt'));
    expect(st.size).toBe(7);
    expect(st.mode & 0o777).toBe(0o600);
    expect(Math.floor(st.mtimeMs / 1000)).toBe(1000000);
    c.clunk(w.fid);
    const again = c.walk(root, []);
    expect(errnoOf(() => c.lcreate(again.fid, 'new.txt', O_RDWR | O_CREAT | O_EXCL, 0o640, 0))).toBe(EEXIST);
    c.clunk(again.fid);
  });

  it('mkdir, symlink/readlink, link, renameat, rename, unlinkat', () => {
    const q = c.mkdir(root, 'made', 0o755, 0);
    expect(q.type & 0x80).toBe(0x80);
    expect(fs.statSync(path.join(dir, 'made')).isDirectory()).toBe(true);
    c.symlink(root, 'ln', 'hello.txt', 0);
    expect(fs.readlinkSync(path.join(dir, 'ln'))).toBe('hello.txt');
    const l = c.walk(root, ['ln']);
    expect(c.readlink(l.fid)).toBe('hello.txt');
    c.clunk(l.fid);
    const h = c.walk(root, ['hello.txt']);
    const made = c.walk(root, ['made']);
    c.link(made.fid, h.fid, 'hard');
    expect(fs.statSync(path.join(dir, 'hello.txt')).nlink).toBe(2);
    // diod answers Trenameat and Tunlinkat with EOPNOTSUPP: the client falls back to Trename
    // and Tremove, as Linux's v9fs does.
    expect(errnoOf(() => c.renameat(made.fid, 'hard', root, 'moved'))).toBe(ENOTSUP);
    c.renameOrFallback(made.fid, 'hard', root, 'moved');
    c.rename(h.fid, made.fid, 'renamed.txt');
    expect(fs.existsSync(path.join(dir, 'made', 'renamed.txt'))).toBe(true);
    expect(errnoOf(() => c.unlinkOrFallback(root, 'made', AT_REMOVEDIR))).toBe(ENOTEMPTY);
    c.unlinkOrFallback(made.fid, 'renamed.txt', 0);
    c.unlinkOrFallback(root, 'made', AT_REMOVEDIR);
    c.unlinkOrFallback(root, 'moved', 0);
    c.unlinkOrFallback(root, 'ln', 0);
    expect(fs.existsSync(path.join(dir, 'made'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'ln'))).toBe(false);
    expect(errnoOf(() => c.unlinkOrFallback(root, 'moved', 0))).toBe(ENOENT);
    c.clunk(h.fid);
    c.clunk(made.fid);
  });

  it('statfs is the host file system\'s', () => {
    const s = c.statfs(root);
    const h = fs.statfsSync(dir);
    expect(s.bsize).toBe(h.bsize);
    expect(s.blocks).toBe(h.blocks);
    expect(s.type).toBe(0x01021997); // V9FS_MAGIC, as diod says
  });

  it('remove and clunk free their fids; a clunked fid is refused', () => {
    fs.writeFileSync(path.join(dir, 'gone'), '');
    const w = c.walk(root, ['gone']);
    c.remove(w.fid);
    expect(fs.existsSync(path.join(dir, 'gone'))).toBe(false);
    expect(errnoOf(() => c.getattr(w.fid))).toBeGreaterThan(0);
  });
});
