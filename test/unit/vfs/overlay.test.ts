// The overlay over a host directory: reads come from the host, changes are copied up and
// stay in memory, deletions leave whiteouts, and the host directory never changes.
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  SYS_chmod, SYS_getdents64, SYS_mkdir, SYS_open, SYS_pread64, SYS_read, SYS_readlink, SYS_rename, SYS_rmdir,
  SYS_stat, SYS_lstat, SYS_unlink, SYS_write,
} from '../../../ts/abi/linux/syscall_numbers';
import { EEXIST, ENOENT, ENOTEMPTY, EXDEV } from '../../../ts/abi/linux/errno';
import { O_APPEND, O_CREAT, O_DIRECTORY, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } from '../../../ts/abi/linux/fcntl';
import { BUF, direntNames, overlayProc } from './vfs_helpers';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function setup() {
  const p = overlayProc((h) => {
    writeFileSync(path.join(h, 'file'), 'lower data');
    mkdirSync(path.join(h, 'dir'));
    writeFileSync(path.join(h, 'dir', 'inner'), 'inner');
    mkdirSync(path.join(h, 'empty'));
    symlinkSync('file', path.join(h, 'link'));
    symlinkSync('/etc/passwd', path.join(h, 'abs'));
  });
  dirs.push(p.hostDir);
  return p;
}

function hostSnapshot(dir: string): string {
  const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(d, e.name);
    if (e.isDirectory()) return [`${p}/`, ...walk(p)];
    return [`${p} ${e.isFile() ? readFileSync(p, 'utf8') : 'link'} ${statSync(p, { throwIfNoEntry: false })?.mode ?? ''}`];
  });
  return walk(dir).join('\n');
}

function ino(p: ReturnType<typeof setup>): bigint {
  return new DataView(p.mm.copyIn(BUF + 8, 8).buffer).getBigUint64(0, true);
}

describe('overlay over the host', () => {
  it('reads lower files and follows lower symlinks inside the sandbox root', () => {
    const p = setup();
    const fd = Number(p.call(SYS_open, '/file', O_RDONLY));
    expect(p.call(SYS_read, fd, BUF, 100)).toBe(10);
    expect(p.mm.getString(BUF, 10)).toBe('lower data');
    expect(p.call(SYS_pread64, fd, BUF, 4, 6)).toBe(4);
    expect(p.call(SYS_stat, '/link', BUF)).toBe(0);
    expect(p.call(SYS_lstat, '/link', BUF)).toBe(0);
    expect(p.call(SYS_readlink, '/link', BUF, 100)).toBe(4);
    // An absolute host symlink resolves inside the served tree, never on the host's /.
    expect(p.call(SYS_stat, '/abs', BUF)).toBe(-ENOENT);
  });

  it('copies up on write, keeps st_ino, and never touches the host', () => {
    const p = setup();
    const before = hostSnapshot(p.hostDir);
    expect(p.call(SYS_stat, '/file', BUF)).toBe(0);
    const lowerIno = ino(p);
    const fd = Number(p.call(SYS_open, '/file', O_WRONLY | O_APPEND));
    p.mm.putBytes(BUF + 512, '+more');
    expect(p.call(SYS_write, fd, BUF + 512, 5)).toBe(5);
    expect(p.call(SYS_stat, '/file', BUF)).toBe(0);
    expect(ino(p)).toBe(lowerIno);
    const rd = Number(p.call(SYS_open, '/file', O_RDONLY));
    expect(p.call(SYS_read, rd, BUF, 100)).toBe(15);
    expect(p.mm.getString(BUF, 15)).toBe('lower data+more');
    expect(p.call(SYS_chmod, '/dir/inner', 0o600)).toBe(0);
    expect(p.call(SYS_open, '/dir/new', O_CREAT | O_RDWR, 0o644)).toBeGreaterThanOrEqual(0);
    expect(p.call(SYS_open, '/file', O_RDWR | O_TRUNC)).toBeGreaterThanOrEqual(0);
    expect(hostSnapshot(p.hostDir)).toBe(before);
  });

  it('deletes leave whiteouts; a name can be made again; listings merge both layers', () => {
    const p = setup();
    p.call(SYS_open, '/dir/upper', O_CREAT | O_RDWR, 0o644);
    const list = (dir: string): string[] => {
      const fd = Number(p.call(SYS_open, dir, O_RDONLY | O_DIRECTORY));
      return direntNames(p, Number(p.call(SYS_getdents64, fd, BUF, 4096))).sort();
    };
    expect(list('/dir')).toEqual(['.', '..', 'inner', 'upper']);
    expect(p.call(SYS_unlink, '/dir/inner')).toBe(0);
    expect(p.call(SYS_stat, '/dir/inner', BUF)).toBe(-ENOENT);
    expect(list('/dir')).toEqual(['.', '..', 'upper']);
    expect(p.call(SYS_rmdir, '/dir')).toBe(-ENOTEMPTY);
    expect(p.call(SYS_unlink, '/dir/upper')).toBe(0);
    expect(p.call(SYS_rmdir, '/dir')).toBe(0);
    expect(p.call(SYS_stat, '/dir', BUF)).toBe(-ENOENT);
    // Made again, the directory is new and empty: the lower one stays hidden.
    expect(p.call(SYS_mkdir, '/dir', 0o755)).toBe(0);
    expect(list('/dir')).toEqual(['.', '..']);
    expect(p.call(SYS_mkdir, '/dir', 0o755)).toBe(-EEXIST);
    expect(readFileSync(path.join(p.hostDir, 'dir', 'inner'), 'utf8')).toBe('inner');
  });

  it('renames files (leaving a whiteout) but not lower directories (EXDEV, as overlayfs)', () => {
    const p = setup();
    expect(p.call(SYS_rename, '/file', '/moved')).toBe(0);
    expect(p.call(SYS_stat, '/file', BUF)).toBe(-ENOENT);
    const fd = Number(p.call(SYS_open, '/moved', O_RDONLY));
    expect(p.call(SYS_read, fd, BUF, 100)).toBe(10);
    expect(p.call(SYS_rename, '/dir', '/dir2')).toBe(-EXDEV);
    expect(p.call(SYS_mkdir, '/fresh', 0o755)).toBe(0);
    expect(p.call(SYS_rename, '/fresh', '/fresh2')).toBe(0);
    expect(p.call(SYS_rename, '/fresh2', '/empty')).toBe(0);
    expect(p.call(SYS_stat, '/empty', BUF)).toBe(0);
    expect(statSync(path.join(p.hostDir, 'file')).isFile()).toBe(true);
  });
});
