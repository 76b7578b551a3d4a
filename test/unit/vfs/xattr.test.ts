// The xattr store (SimpleXattrs) and its space budget (XattrSpace), which keep a sandbox
// from filling the sentry's heap with attributes: every byte set is charged, replacing or
// removing gives it back, and freeing an inode returns all of it. Before, no store existed.
import { describe, expect, it } from 'vitest';
import { EEXIST, ENODATA, ENOSPC } from '../../../ts/abi/linux/errno';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { SimpleXattrs, XATTR_CREATE, XATTR_REPLACE, XattrSpace, xattrSpace } from '../../../ts/vfs/xattr';

function errnoOf(f: () => unknown): number {
  try { f(); } catch (e) { if (e instanceof SyscallError) return e.errno; throw e; }
  return 0;
}

describe('SimpleXattrs', () => {
  it('CREATE/REPLACE, removal and listing order (descending bytes, trusted.* for the privileged)', () => {
    const x = new SimpleXattrs(null);
    x.set('user.a', new Uint8Array([1]), 0);
    expect(errnoOf(() => x.set('user.a', new Uint8Array([2]), XATTR_CREATE))).toBe(EEXIST);
    expect(errnoOf(() => x.set('user.b', new Uint8Array([2]), XATTR_REPLACE))).toBe(ENODATA);
    expect(errnoOf(() => x.set('user.b', null, 0))).toBe(ENODATA);
    x.set('user.B', new Uint8Array(0), 0);
    x.set('trusted.t', new Uint8Array(0), 0);
    expect(x.list(true)).toEqual(['user.a', 'user.B', 'trusted.t']);
    expect(x.list(false)).toEqual(['user.a', 'user.B']);
    x.set('user.a', null, XATTR_REPLACE);
    expect(errnoOf(() => x.get('user.a'))).toBe(ENODATA);
  });

  it('charges every value to the budget and gives it back on replace, remove and clear', () => {
    const budget = 10 * xattrSpace('user.n0', 1000);
    const space = new XattrSpace(budget);
    const files = [new SimpleXattrs(space), new SimpleXattrs(space)];
    const big = new Uint8Array(1000);
    for (let i = 0; i < 10; i++) files[i % 2].set(`user.n${i}`, big, 0);
    expect(errnoOf(() => files[0].set('user.n0x', big, 0))).toBe(ENOSPC);
    // A failed set changes nothing; as in shmem, a replacement is charged before the old
    // value is given back, so with the budget spent even a smaller one does not fit.
    expect(files[0].has('user.n0x')).toBe(false);
    expect(errnoOf(() => files[0].set('user.n0', new Uint8Array(10), XATTR_REPLACE))).toBe(ENOSPC);
    expect(files[0].get('user.n0').length).toBe(1000);
    files[0].set('user.n0', null, XATTR_REPLACE);
    expect(errnoOf(() => files[0].set('user.extra', new Uint8Array(900), 0))).toBe(0);
    files[1].clear();
    for (let i = 0; i < 5; i++) files[0].set(`user.m${i}`, big, 0);
    expect(errnoOf(() => files[0].set('user.more', big, 0))).toBe(ENOSPC);
    for (const n of files[0].list(false)) files[0].set(n, null, XATTR_REPLACE);
    for (let i = 0; i < 10; i++) files[1].set(`user.n${i}`, big, 0);
  });
});
