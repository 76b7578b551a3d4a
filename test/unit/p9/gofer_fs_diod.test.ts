// The gofer file systems over diod (a server that donates no fd): the overlay's lower layer
// reads through Tread, the writable file system creates, renames and removes through 9P, and
// the session's fid cache stays bounded (evicted nodes are walked to again on use).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { haveDiod, startDiod, type Diod } from '../../helpers/diod';
import { skipBecause } from '../../helpers/run';
import { GoferSession, type GoferNode } from '../../../ts/fsimpl/gofer/session';
import { GoferLowerFS } from '../../../ts/fsimpl/gofer/gofer_lower';
import { GoferFS, type GoferInode } from '../../../ts/fsimpl/gofer/gofer_fs';
import type { NativeMemoryFile } from '../../../ts/native/addon';
import { Credentials } from '../../../ts/kernel/credentials';
import { S_IFDIR, S_IFREG } from '../../../ts/abi/linux/stat';
import { RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT } from '../../../ts/abi/linux/fs';
import { EINVAL } from '../../../ts/abi/linux/errno';

describe.skipIf(skipBecause(!haveDiod, 'diod is not installed (/usr/sbin/diod)'))('gofer file systems over diod', () => {
  let dir: string;
  let d: Diod;
  let s: GoferSession;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-goferfs-'));
    fs.writeFileSync(path.join(dir, 'a.txt'), 'alpha\n');
    fs.mkdirSync(path.join(dir, 'many'));
    for (let i = 0; i < 600; i++) fs.writeFileSync(path.join(dir, 'many', `f${i}`), String(i));
    fs.symlinkSync('a.txt', path.join(dir, 'ln'));
    d = startDiod(dir);
    s = new GoferSession(d.client);
  });
  afterAll(() => {
    d?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the lower layer: walk, getattr, readdir, readlink, open (Tread without a donated fd), statfs', () => {
    const lower = new GoferLowerFS(s, dir);
    const a = lower.walk(lower.root, 'a.txt')!;
    expect(a.attr.size).toBe(6);
    expect(lower.walk(lower.root, 'missing')).toBeNull();
    expect(lower.walk(a, 'below-a-file')).toBeNull();
    expect(lower.readdir(lower.root).map((e) => e.name).sort()).toEqual(['a.txt', 'ln', 'many']);
    expect(lower.readlink(lower.walk(lower.root, 'ln')!)).toBe('a.txt');
    const data = lower.open(a);
    const buf = new Uint8Array(16);
    expect(data.pread(buf, 0)).toBe(6);
    expect(new TextDecoder().decode(buf.subarray(0, 6))).toBe('alpha\n');
    expect(data.size()).toBe(6);
    data.release();
    expect(lower.statfs().bsize).toBeGreaterThan(0);
  });

  it('fids stay bounded: 600 walked files, the oldest walked to again when used', () => {
    const lower = new GoferLowerFS(s, dir);
    const many = lower.walk(lower.root, 'many')!;
    const nodes: GoferNode[] = [];
    for (let i = 0; i < 600; i++) nodes.push(lower.walk(many, `f${i}`) as GoferNode);
    expect(nodes[0].fid).toBe(-1); // given up
    expect(nodes[599].fid).toBeGreaterThan(0);
    fs.writeFileSync(path.join(dir, 'many', 'f0'), 'changed');
    expect(s.getattr(nodes[0], 0).size).toBe(7);
    expect(nodes[0].fid).toBeGreaterThan(0);
  });

  it('the writable file system: create, write, mkdir, rename, setattr, unlink reach the host', () => {
    const vol = new GoferFS(s, dir, 0, null as unknown as NativeMemoryFile);
    const root = vol.root;
    const creds = new Credentials(0, 0);
    const f = root.create('new.txt', S_IFREG | 0o644, creds) as GoferInode;
    expect(fs.statSync(path.join(dir, 'new.txt')).mode & 0o777).toBe(0o644);
    const sub = root.mkdir('sub', S_IFDIR | 0o755, creds);
    root.rename('new.txt', f, sub, 'moved.txt', null, 0);
    expect(fs.existsSync(path.join(dir, 'sub', 'moved.txt'))).toBe(true);
    f.setattr({ size: 100, mode: 0o600 });
    expect(fs.statSync(path.join(dir, 'sub', 'moved.txt')).size).toBe(100);
    expect(f.stat().size).toBe(100);
    expect(f.mode & 0o777).toBe(0o600);
    root.symlink('sl', 'sub/moved.txt', creds);
    expect(fs.readlinkSync(path.join(dir, 'sl'))).toBe('sub/moved.txt');
    (sub as GoferInode).unlink('moved.txt', f);
    root.rmdir('sub', sub);
    root.unlink('sl', root.lookup('sl')!);
    expect(fs.existsSync(path.join(dir, 'sub'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'sl'))).toBe(false);
  });

  it('renameat2 flags: diod has no Trenameat2, so EXCHANGE and WHITEOUT are EINVAL (as v9fs) and nothing moves; NOREPLACE alone renames', () => {
    const vol = new GoferFS(s, dir, 0, null as unknown as NativeMemoryFile);
    const root = vol.root;
    const creds = new Credentials(0, 0);
    const x = root.create('x.txt', S_IFREG | 0o644, creds);
    const y = root.create('y.txt', S_IFREG | 0o644, creds);
    fs.writeFileSync(path.join(dir, 'x.txt'), 'x');
    expect(() => root.rename('x.txt', x, root, 'y.txt', y, RENAME_EXCHANGE)).toThrow(expect.objectContaining({ errno: EINVAL }));
    expect(() => root.rename('x.txt', x, root, 'z.txt', null, RENAME_WHITEOUT)).toThrow(expect.objectContaining({ errno: EINVAL }));
    expect(fs.readFileSync(path.join(dir, 'x.txt'), 'utf8')).toBe('x');
    expect(fs.existsSync(path.join(dir, 'z.txt'))).toBe(false);
    root.rename('x.txt', x, root, 'z.txt', null, RENAME_NOREPLACE);
    expect(fs.readFileSync(path.join(dir, 'z.txt'), 'utf8')).toBe('x');
    for (const n of ['y.txt', 'z.txt']) fs.rmSync(path.join(dir, n));
  });

  it('revalidation: a name removed or replaced on the host is stale, an unchanged one is not', async () => {
    const vol = new GoferFS(s, dir, 0, null as unknown as NativeMemoryFile);
    const a = vol.root.lookup('a.txt') as GoferInode;
    expect(a.revalidate()).toBe(true);
    await new Promise((r) => setTimeout(r, 150));
    expect(a.revalidate()).toBe(true);
    fs.writeFileSync(path.join(dir, 'b.tmp'), 'other');
    fs.renameSync(path.join(dir, 'b.tmp'), path.join(dir, 'a.txt'));
    await new Promise((r) => setTimeout(r, 150));
    expect(a.revalidate()).toBe(false);
    const again = vol.root.lookup('a.txt') as GoferInode;
    expect(again.stat().size).toBe(5);
    fs.unlinkSync(path.join(dir, 'a.txt'));
    await new Promise((r) => setTimeout(r, 150));
    expect(again.revalidate()).toBe(false);
  });
  it('two names of one file (a hard link) are one file for locks and FIFOs (Inode.identity), another file is not', () => {
    fs.writeFileSync(path.join(dir, 'h1'), 'h\n');
    fs.linkSync(path.join(dir, 'h1'), path.join(dir, 'h2'));
    const vol = new GoferFS(s, dir, 0, null as unknown as NativeMemoryFile);
    const h1 = vol.root.lookup('h1')!, h2 = vol.root.lookup('h2')!, a = vol.root.lookup('many')!;
    expect(h1).not.toBe(h2);
    expect(h2.identity()).toBe(h1.identity());
    expect(vol.root.lookup('h1')!.identity()).toBe(h1.identity());
    expect(a.identity()).not.toBe(h1.identity());
    // The lower layer's nodes, through the overlay's identity, likewise (by inode number).
    const lower = new GoferLowerFS(s, dir);
    const l1 = lower.walk(lower.root, 'h1')!, l2 = lower.walk(lower.root, 'h2')!;
    expect(l1.attr.ino).toBe(l2.attr.ino);
    fs.unlinkSync(path.join(dir, 'h2'));
    fs.unlinkSync(path.join(dir, 'h1'));
  });
});
