// The dentry cache's bound (ts/vfs/dentry_cache.ts) on the overlay over a host directory: a
// walk over more names than the bound leaves at most the bound of leaves cached, and a dentry
// pruned while something still holds it (the working directory, an open file's name) is the
// one found again by its name: a rename or unlink through the name reaches the holder.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SYS_chdir, SYS_getcwd, SYS_mkdir, SYS_open, SYS_read, SYS_rename, SYS_rmdir, SYS_stat, SYS_unlink } from '../../../ts/abi/linux/syscall_numbers';
import { ENOENT } from '../../../ts/abi/linux/errno';
import { O_RDONLY } from '../../../ts/abi/linux/fcntl';
import { dentryCache } from '../../../ts/vfs/dentry_cache';
import { BUF, overlayProc } from './vfs_helpers';

const dirs: string[] = [];
const limit = dentryCache.limit;
afterEach(() => {
  dentryCache.limit = limit;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const p = overlayProc((h) => {
    for (let i = 0; i < 200; i++) writeFileSync(path.join(h, `f${i}`), `file ${i}`);
    mkdirSync(path.join(h, 'd'));
    mkdirSync(path.join(h, 'e'));
    writeFileSync(path.join(h, 'd', 'inner'), 'inner');
  });
  dirs.push(p.hostDir);
  dentryCache.limit = 8;
  return p;
}

const statAll = (p: ReturnType<typeof setup>) => {
  for (let i = 0; i < 200; i++) expect(p.call(SYS_stat, `/f${i}`, BUF)).toBe(0);
};

describe('dentry cache bound', () => {
  it('keeps at most the bound of leaves however many names are looked up', () => {
    const p = setup();
    statAll(p);
    expect(dentryCache.size).toBeLessThanOrEqual(8);
    // Names looked up again after their dentry went are found again, with their data.
    const fd = Number(p.call(SYS_open, '/f3', O_RDONLY));
    expect(p.call(SYS_read, fd, BUF, 100)).toBe(6);
    expect(p.mm.getString(BUF, 6)).toBe('file 3');
  });

  it('a working directory pruned from the cache is the dentry a rename of its name moves', () => {
    const p = setup();
    // Made in the sandbox (the overlay renames no lower directory: EXDEV, as overlayfs).
    expect(p.call(SYS_mkdir, '/made', 0o755)).toBe(0);
    expect(p.call(SYS_chdir, '/made')).toBe(0);
    statAll(p);
    expect(p.call(SYS_rename, '/made', '/moved')).toBe(0);
    expect(p.call(SYS_getcwd, BUF, 100)).toBe(7);
    expect(p.mm.getString(BUF, 6)).toBe('/moved');
  });

  it('a pruned working directory removed by its name is deleted for its holder too', () => {
    const p = setup();
    expect(p.call(SYS_chdir, '/e')).toBe(0);
    statAll(p);
    expect(p.call(SYS_rmdir, '/e')).toBe(0);
    expect(p.call(SYS_stat, '/e', BUF)).toBe(-ENOENT);
    // getcwd of a removed directory: "(unreachable)" or ENOENT, never the old path as if it were there.
    const n = Number(p.call(SYS_getcwd, BUF, 100));
    expect(n < 0 || !p.mm.getString(BUF, n - 1).startsWith('/e')).toBe(true);
  });

  it('an open file whose name was pruned: unlinking the name reaches it', () => {
    const p = setup();
    const fd = Number(p.call(SYS_open, '/f7', O_RDONLY));
    statAll(p);
    expect(p.call(SYS_unlink, '/f7')).toBe(0);
    expect(p.call(SYS_stat, '/f7', BUF)).toBe(-ENOENT);
    expect(p.call(SYS_read, fd, BUF, 100)).toBe(6);
  });
});
