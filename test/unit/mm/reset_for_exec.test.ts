// MemoryManager.resetForExec (execve keeping the platform's address space): the old manager
// is released and reaches nothing any more — not the new image that now shares its host
// address space — and the new one starts empty over the same address space.
import { describe, expect, it } from 'vitest';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../../ts/abi/linux/mm';
import { EFAULT } from '../../../ts/abi/linux/errno';
import { PAGE } from './fake_native';
import { errnoOf, mmapSharedAnon, newMM } from './helpers';

const RW = PROT_READ | PROT_WRITE;

describe('resetForExec', () => {
  it('empties the address space, frees the old pages and cuts the old manager off', () => {
    const { mm: old, mf, as } = newMM();
    const a = old.mmap(0x400000, 2 * PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
    mmapSharedAnon(old, 0, PAGE);
    old.copyOut(old.vmas.all()[0].start, new Uint8Array([4]));
    old.copyOut(a, new Uint8Array([1, 2, 3]));
    old.stackLimit = 12 << 20;
    const mm = old.resetForExec();
    expect(as.resetCalls).toBe(1);
    expect(old.isReleased).toBe(true);
    expect(mm.addressSpace).toBe(as);
    expect(mm.stackLimit).toBe(12 << 20);
    expect(mm.vmas.count).toBe(0);
    expect(mf.allocatedBytes()).toBe(0);
    // The new image maps the same address: the old manager must not see or change it.
    const b = mm.mmap(0x400000, PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, null, 0);
    expect(b).toBe(a);
    mm.copyOut(b, new Uint8Array([9]));
    expect(errnoOf(() => old.copyIn(a, 1))).toBe(EFAULT);
    expect(errnoOf(() => old.copyOut(a, new Uint8Array([7])))).toBe(EFAULT);
    expect(mm.copyIn(b, 1)[0]).toBe(9);
    old.release(); // a no-op now: the address space is the new image's
    expect(as.released).toBe(false);
    expect(mm.copyIn(b, 1)[0]).toBe(9);
    mm.release();
    expect(as.released).toBe(true);
    expect(mf.allocatedBytes()).toBe(0);
  });
});
