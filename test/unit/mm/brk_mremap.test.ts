import { describe, it, expect } from 'vitest';
import {
  MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_READ,
  PROT_WRITE,
} from '../../../ts/abi/linux/mm';
import { EFAULT, EINVAL, ENOMEM } from '../../../ts/abi/linux/errno';
import { ACCESS_READ } from '../../../ts/native/addon';
import { PAGE } from './fake_native';
import { errnoOf, mmapSharedAnon, newMM, pattern } from './helpers';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

describe('brk', () => {
  it('grows, shrinks, and grows back to zeroed memory', () => {
    const { mm } = newMM();
    mm.brkStart = mm.brkEnd = 0x60_0000;
    expect(mm.brk(0)).toBe(0x60_0000);
    expect(mm.brk(0x60_0000 + 3 * PAGE + 5)).toBe(0x60_0000 + 3 * PAGE + 5);
    mm.copyOut(0x60_0000 + 3 * PAGE, new Uint8Array([1, 2, 3]));
    expect(mm.brk(0x60_0000 + PAGE)).toBe(0x60_0000 + PAGE);
    expect(errnoOf(() => mm.copyIn(0x60_0000 + PAGE, 1))).toBe(EFAULT);
    mm.brk(0x60_0000 + 4 * PAGE);
    expect(mm.copyIn(0x60_0000 + 3 * PAGE, 3)).toEqual(new Uint8Array(3));
  });

  it('keeps growth in one VMA', () => {
    const { mm } = newMM();
    mm.brkStart = mm.brkEnd = 0x60_0000;
    for (let i = 1; i <= 100; i++) mm.brk(0x60_0000 + i * 1000);
    expect(mm.vmas.count).toBe(1);
  });

  it('returns the old break when it cannot move', () => {
    const { mm } = newMM();
    mm.brkStart = mm.brkEnd = 0x60_0000;
    mm.mmap(0x60_0000 + 4 * PAGE, PAGE, RW, ANON | MAP_FIXED, null, 0);
    expect(mm.brk(0x60_0000 + 8 * PAGE)).toBe(0x60_0000);
    expect(mm.brk(0x50_0000)).toBe(0x60_0000); // below the start
    expect(mm.brk(0x60_0000 + 2 * PAGE)).toBe(0x60_0000 + 2 * PAGE);
  });
});

describe('mremap', () => {
  it('grows in place when the space above is free', () => {
    const { mm } = newMM();
    const a = mm.mmap(0x2000_0000, 2 * PAGE, RW, ANON, null, 0);
    mm.copyOut(a, new Uint8Array([5]));
    expect(mm.mremap(a, 2 * PAGE, 6 * PAGE, 0, 0)).toBe(a);
    expect(mm.copyIn(a, 1)[0]).toBe(5);
    mm.copyOut(a + 5 * PAGE, new Uint8Array([6]));
  });

  it('moves when blocked (MREMAP_MAYMOVE), keeping the contents and unmapping the old place', () => {
    const { mm, mf } = newMM();
    const a = mm.mmap(0x2000_0000, 4 * PAGE, RW, ANON, null, 0);
    mm.mmap(a + 4 * PAGE, PAGE, PROT_READ, ANON | MAP_FIXED, null, 0);
    const data = pattern(4 * PAGE, 4);
    mm.copyOut(a, data);
    const before = mf.allocatedBytes();
    expect(errnoOf(() => mm.mremap(a, 4 * PAGE, 64 * PAGE, 0, 0))).toBe(ENOMEM);
    const b = mm.mremap(a, 4 * PAGE, 64 * PAGE, MREMAP_MAYMOVE, 0);
    expect(b).not.toBe(a);
    expect(mf.allocatedBytes()).toBe(before); // moved, not copied
    expect(mm.copyIn(b, 4 * PAGE)).toEqual(data);
    expect(mf.allocatedBytes()).toBe(before);
    expect(mm.copyIn(b + 63 * PAGE, PAGE)).toEqual(new Uint8Array(PAGE));
    expect(errnoOf(() => mm.copyIn(a, 1))).toBe(EFAULT);
  });

  it('shrinks in place', () => {
    const { mm } = newMM();
    const a = mm.mmap(0, 8 * PAGE, RW, ANON, null, 0);
    expect(mm.mremap(a, 8 * PAGE, 2 * PAGE, 0, 0)).toBe(a);
    expect(errnoOf(() => mm.copyIn(a + 2 * PAGE, 1))).toBe(EFAULT);
  });

  it('MREMAP_FIXED moves to the given place, replacing what was there', () => {
    const { mm } = newMM();
    const a = mm.mmap(0x3000_0000, 2 * PAGE, RW, ANON, null, 0);
    mm.copyOut(a + PAGE, new Uint8Array([77]));
    const target = 0x3100_0000;
    mm.mmap(target, PAGE, PROT_READ, ANON | MAP_FIXED, null, 0);
    expect(mm.mremap(a, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target)).toBe(target);
    expect(mm.copyIn(target + PAGE, 1)[0]).toBe(77);
    expect(mm.vmas.find(target)?.prot).toBe(RW);
    expect(errnoOf(() => mm.mremap(target, PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target - PAGE))).toBe(EINVAL);
  });

  it('moves shared anonymous memory with its pages; the growth is past its object', () => {
    const { mm } = newMM();
    const a = mmapSharedAnon(mm, 0x3000_0000, PAGE);
    mm.copyOut(a, new Uint8Array([3]));
    mm.mmap(a + PAGE, PAGE, RW, ANON | MAP_FIXED, null, 0);
    const b = mm.mremap(a, PAGE, 3 * PAGE, MREMAP_MAYMOVE, 0);
    expect(mm.copyIn(b, 1)[0]).toBe(3);
    // Linux's shmem object keeps its mmap size: a touch past it is SIGBUS, a copy EFAULT.
    expect(errnoOf(() => mm.copyOut(b + 2 * PAGE, new Uint8Array([4])))).toBe(EFAULT);
    expect(mm.handleFault(b + PAGE, ACCESS_READ)).toBe(false);
    expect(mm.busFault).toBe(true);
  });

  it('errors', () => {
    const { mm } = newMM();
    const a = mm.mmap(0, 2 * PAGE, RW, ANON, null, 0);
    expect(errnoOf(() => mm.mremap(a + 1, PAGE, 2 * PAGE, MREMAP_MAYMOVE, 0))).toBe(EINVAL);
    expect(errnoOf(() => mm.mremap(a, PAGE, 2 * PAGE, 8, 0))).toBe(EINVAL);
    expect(errnoOf(() => mm.mremap(a, PAGE, 2 * PAGE, MREMAP_FIXED, 0))).toBe(EINVAL);
    expect(errnoOf(() => mm.mremap(a, PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0))).toBe(EINVAL);
    expect(errnoOf(() => mm.mremap(a, PAGE, 0, MREMAP_MAYMOVE, 0))).toBe(EINVAL);
    expect(errnoOf(() => mm.mremap(0x1234_5000, PAGE, 2 * PAGE, MREMAP_MAYMOVE, 0))).toBe(EFAULT);
    expect(errnoOf(() => mm.mremap(a, 3 * PAGE, 4 * PAGE, MREMAP_MAYMOVE, 0))).toBe(EFAULT);
  });
});
