import { describe, it, expect } from 'vitest';
import { FDTable } from '../../../ts/vfs/fd_table';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { EBADF, EMFILE } from '../../../ts/abi/linux/errno';
import { MemFile } from '../syscalls/fakes';

function errno(f: () => unknown): number {
  try { f(); } catch (e) { if (e instanceof SyscallError) return e.errno; throw e; }
  return 0;
}

describe('FDTable', () => {
  it('hands out the lowest free fd at or above minFd', () => {
    const t = new FDTable();
    const f = new MemFile();
    expect([t.newFD(f), t.newFD(f), t.newFD(f)]).toEqual([0, 1, 2]);
    expect(t.newFD(f, { minFd: 10 })).toBe(10);
    expect(t.newFD(f)).toBe(3);
    t.remove(1)?.decRef();
    expect(t.newFD(f)).toBe(1);
    expect(t.newFD(f, { minFd: 10 })).toBe(11);
    expect(t.newFD(f)).toBe(4);
  });

  it('EMFILE at the limit; setFD EBADF at or past it', () => {
    const t = new FDTable();
    const f = new MemFile();
    t.newFD(f, { limit: 2 });
    t.newFD(f, { limit: 2 });
    expect(errno(() => t.newFD(f, { limit: 2 }))).toBe(EMFILE);
    expect(errno(() => t.newFD(f, { minFd: 5, limit: 5 }))).toBe(EMFILE);
    expect(errno(() => t.setFD(2, f, false, 2))).toBe(EBADF);
    t.limit = 3;
    expect(t.newFD(f)).toBe(2);
  });

  it('counts references: each entry holds one; remove hands it to the caller', () => {
    const t = new FDTable();
    const f = new MemFile();
    t.newFD(f);
    t.newFD(f);
    f.decRef(); // the creator's
    expect(f.refCount).toBe(2);
    const r = t.remove(0);
    expect(r).toBe(f);
    expect(f.refCount).toBe(2);
    r?.decRef();
    expect(f.released).toBe(false);
    t.remove(1)?.decRef();
    expect(f.released).toBe(true);
    expect(t.remove(1)).toBeUndefined();
  });

  it('setFD replaces and releases the old description, even onto itself safely', () => {
    const t = new FDTable();
    const a = new MemFile();
    const b = new MemFile();
    t.setFD(3, a, true);
    a.decRef();
    t.setFD(3, a, false);
    expect(a.refCount).toBe(1);
    expect(t.getFlags(3)).toEqual({ cloexec: false });
    t.setFD(3, b, false);
    expect(a.released).toBe(true);
    expect(t.get(3)).toBe(b);
  });

  it('fork copies entries and flags with new references; closeOnExec and releaseAll', () => {
    const t = new FDTable();
    const a = new MemFile();
    const b = new MemFile();
    t.setFD(0, a, false);
    t.setFD(5, b, true);
    a.decRef();
    b.decRef();
    const child = t.fork();
    expect(child.fds()).toEqual([0, 5]);
    expect(child.getFlags(5)).toEqual({ cloexec: true });
    expect(a.refCount).toBe(2);
    child.closeOnExec();
    expect(child.fds()).toEqual([0]);
    expect(b.refCount).toBe(1);
    t.releaseAll();
    expect(b.released).toBe(true);
    expect(a.released).toBe(false);
    child.releaseAll();
    expect(a.released).toBe(true);
    expect(child.get(0)).toBeUndefined();
  });

  it('getFlags/setFlags only for open fds; get of negative fds is undefined', () => {
    const t = new FDTable();
    expect(t.getFlags(0)).toBeUndefined();
    expect(t.setFlags(0, { cloexec: true })).toBe(false);
    expect(t.get(-1)).toBeUndefined();
  });
});
