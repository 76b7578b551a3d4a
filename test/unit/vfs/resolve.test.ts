// Path resolution and the path syscalls on a tmpfs root: symlinks and their limit, '..',
// trailing slashes, name lengths, mounts, and the errnos Linux gives.
import { describe, expect, it } from 'vitest';
import {
  SYS_chdir, SYS_getcwd, SYS_getdents64, SYS_link, SYS_lseek, SYS_mkdir, SYS_open, SYS_openat, SYS_read,
  SYS_readlink, SYS_rename, SYS_renameat2, SYS_rmdir, SYS_stat, SYS_symlink, SYS_unlink, SYS_write,
} from '../../../ts/abi/linux/syscall_numbers';
import {
  EBUSY, EEXIST, EINVAL, EISDIR, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, ENOTEMPTY, EXDEV,
} from '../../../ts/abi/linux/errno';
import { O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_RDONLY, O_RDWR, O_WRONLY } from '../../../ts/abi/linux/fcntl';
import { TmpfsFS } from '../../../ts/fsimpl/tmpfs/tmpfs';
import { FakeMemoryFile } from '../mm/fake_native';
import { walk } from '../../../ts/vfs/resolve';
import { resolveContext } from '../../../ts/vfs/task_fs';
import { BUF, direntNames, tmpfsProc } from './vfs_helpers';

function statSize(p: ReturnType<typeof tmpfsProc>): number {
  return Number(new DataView(p.mm.copyIn(BUF + 48, 8).buffer).getBigInt64(0, true));
}

describe('path resolution on tmpfs', () => {
  it('creates, writes, reads back and lists files', () => {
    const p = tmpfsProc();
    expect(p.call(SYS_mkdir, '/d', 0o755)).toBe(0);
    const fd = Number(p.call(SYS_open, '/d/f', O_CREAT | O_RDWR, 0o644));
    expect(fd).toBeGreaterThanOrEqual(0);
    p.mm.putBytes(BUF, 'hello');
    expect(p.call(SYS_write, fd, BUF, 5)).toBe(5);
    expect(p.call(SYS_lseek, fd, 0, 0)).toBe(0);
    expect(p.call(SYS_read, fd, BUF + 100, 10)).toBe(5);
    expect(p.mm.getString(BUF + 100, 5)).toBe('hello');
    expect(p.call(SYS_stat, '/d/f', BUF)).toBe(0);
    expect(statSize(p)).toBe(5);
    expect(p.call(SYS_open, '/d/f', O_CREAT | O_EXCL | O_RDWR, 0o644)).toBe(-EEXIST);
    const dfd = Number(p.call(SYS_open, '/d', O_RDONLY | O_DIRECTORY));
    const n = Number(p.call(SYS_getdents64, dfd, BUF, 4096));
    expect(direntNames(p, n)).toEqual(['.', '..', 'f']);
    expect(p.call(SYS_getdents64, dfd, BUF, 4096)).toBe(0);
    expect(p.call(SYS_getdents64, fd, BUF, 4096)).toBe(-ENOTDIR);
  });

  it('gives ENOENT, ENOTDIR, EISDIR and ENAMETOOLONG where Linux does', () => {
    const p = tmpfsProc();
    p.call(SYS_open, '/f', O_CREAT | O_RDWR, 0o644);
    expect(p.call(SYS_stat, '/nope', BUF)).toBe(-ENOENT);
    expect(p.call(SYS_stat, '/f/x', BUF)).toBe(-ENOTDIR);
    expect(p.call(SYS_stat, '/f/', BUF)).toBe(-ENOTDIR);
    expect(p.call(SYS_open, '/', O_WRONLY)).toBe(-EISDIR);
    expect(p.call(SYS_open, '/f', O_RDONLY | O_DIRECTORY)).toBe(-ENOTDIR);
    expect(p.call(SYS_open, '/newdir/', O_CREAT | O_RDWR, 0o644)).toBe(-EISDIR);
    expect(p.call(SYS_stat, `/${'n'.repeat(256)}`, BUF)).toBe(-ENAMETOOLONG);
    expect(p.call(SYS_stat, `/${'n'.repeat(255)}`, BUF)).toBe(-ENOENT);
    expect(p.call(SYS_stat, '', BUF)).toBe(-ENOENT);
    expect(p.call(SYS_unlink, '/')).toBe(-EISDIR);
    expect(p.call(SYS_rmdir, '/')).toBe(-EBUSY);
    expect(p.call(SYS_rmdir, '/f')).toBe(-ENOTDIR);
    expect(p.call(SYS_mkdir, '/f', 0o755)).toBe(-EEXIST);
  });

  it('follows symlinks up to 40 deep, then ELOOP; O_NOFOLLOW refuses a final symlink', () => {
    const p = tmpfsProc();
    p.call(SYS_open, '/target', O_CREAT | O_RDWR, 0o644);
    p.call(SYS_symlink, 'target', '/l0');
    for (let i = 1; i <= 40; i++) p.call(SYS_symlink, `l${i - 1}`, `/l${i}`);
    expect(p.call(SYS_stat, '/l39', BUF)).toBe(0);
    expect(p.call(SYS_stat, '/l40', BUF)).toBe(-ELOOP);
    expect(p.call(SYS_open, '/l0', O_RDONLY | O_NOFOLLOW)).toBe(-ELOOP);
    p.call(SYS_symlink, '/a/../b', '/c');
    expect(p.call(SYS_readlink, '/c', BUF, 100)).toBe(7);
    expect(p.call(SYS_readlink, '/target', BUF, 100)).toBe(-EINVAL);
  });

  it("'..' stays at the root; symlinks to directories resolve relative to their own directory", () => {
    const p = tmpfsProc();
    p.call(SYS_mkdir, '/a', 0o755);
    p.call(SYS_mkdir, '/a/b', 0o755);
    p.call(SYS_open, '/a/file', O_CREAT | O_RDWR, 0o644);
    p.call(SYS_symlink, '../file', '/a/b/up');
    expect(p.call(SYS_stat, '/../../a/./b/../file', BUF)).toBe(0);
    expect(p.call(SYS_stat, '/a/b/up', BUF)).toBe(0);
    expect(p.call(SYS_chdir, '/a/b')).toBe(0);
    expect(p.call(SYS_stat, 'up', BUF)).toBe(0);
    expect(p.call(SYS_getcwd, BUF, 100)).toBe(5);
    expect(p.mm.getString(BUF, 4)).toBe('/a/b');
    // A renamed working directory is still the working directory.
    expect(p.call(SYS_rename, '/a', '/z')).toBe(0);
    p.call(SYS_getcwd, BUF, 100);
    expect(p.mm.getString(BUF, 4)).toBe('/z/b');
  });

  it('crosses mounts both ways; rename and link across them are EXDEV', () => {
    const p = tmpfsProc();
    p.call(SYS_mkdir, '/mnt', 0o755);
    const ctx = resolveContext(p.t);
    const other = new TmpfsFS(new FakeMemoryFile());
    p.ns.mount(walk(ctx, ctx.root, '/mnt', { follow: true }).vd!, other, other.root);
    expect(p.call(SYS_open, '/mnt/inner', O_CREAT | O_RDWR, 0o644)).toBeGreaterThanOrEqual(0);
    expect(other.root.entries.has('inner')).toBe(true);
    p.call(SYS_open, '/outer', O_CREAT | O_RDWR, 0o644);
    expect(p.call(SYS_stat, '/mnt/../outer', BUF)).toBe(0);
    expect(p.call(SYS_rename, '/outer', '/mnt/x')).toBe(-EXDEV);
    expect(p.call(SYS_link, '/outer', '/mnt/x')).toBe(-EXDEV);
    expect(p.call(SYS_rmdir, '/mnt')).toBe(-EBUSY);
  });

  it('rename: replaces files, refuses non-empty directories and loops; renameat2 flags', () => {
    const p = tmpfsProc();
    p.call(SYS_mkdir, '/d', 0o755);
    p.call(SYS_mkdir, '/d/e', 0o755);
    p.call(SYS_mkdir, '/x', 0o755);
    p.call(SYS_open, '/x/f', O_CREAT | O_RDWR, 0o644);
    p.call(SYS_open, '/a', O_CREAT | O_RDWR, 0o644);
    p.call(SYS_open, '/b', O_CREAT | O_RDWR, 0o644);
    expect(p.call(SYS_rename, '/d', '/d/e/inside')).toBe(-EINVAL);
    expect(p.call(SYS_rename, '/d', '/x')).toBe(-ENOTEMPTY);
    expect(p.call(SYS_rename, '/a', '/d')).toBe(-EISDIR);
    expect(p.call(SYS_rename, '/d', '/a')).toBe(-ENOTDIR);
    expect(p.call(SYS_renameat2, -100, '/a', -100, '/b', 1)).toBe(-EEXIST);
    expect(p.call(SYS_renameat2, -100, '/a', -100, '/d', 2)).toBe(0);
    expect(p.call(SYS_stat, '/a/e', BUF)).toBe(0);
    expect(p.call(SYS_rename, '/b', '/d')).toBe(0);
    expect(p.call(SYS_stat, '/b', BUF)).toBe(-ENOENT);
    expect(p.call(SYS_unlink, '/x/f')).toBe(0);
    expect(p.call(SYS_rmdir, '/x')).toBe(0);
    expect(p.call(SYS_openat, -100, '/x/f', O_RDONLY)).toBe(-ENOENT);
  });
});
