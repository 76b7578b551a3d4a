import { describe, it, expect } from 'vitest';
import {
  MAP_ANONYMOUS, MAP_GROWSDOWN, MAP_PRIVATE, MAP_SHARED, PROT_EXEC, PROT_GROWSDOWN, PROT_NONE, PROT_READ,
  PROT_WRITE,
} from '../../../ts/abi/linux/mm';
import { EACCES, EFAULT, EINVAL, ENOMEM } from '../../../ts/abi/linux/errno';
import { PAGE } from './fake_native';
import { BytesBacking, errnoOf, newMM, pattern } from './helpers';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

describe('munmap', () => {
  it('splits a mapping and keeps the rest intact', () => {
    const { mm, mf } = newMM();
    const a = mm.mmap(0, 3 * PAGE, RW, ANON, null, 0);
    const data = pattern(3 * PAGE);
    mm.copyOut(a, data);
    mm.munmap(a + PAGE, PAGE);
    expect(mm.vmas.count).toBe(2);
    expect(errnoOf(() => mm.copyIn(a + PAGE, 1))).toBe(EFAULT);
    expect(mm.copyIn(a, PAGE)).toEqual(data.subarray(0, PAGE));
    expect(mm.copyIn(a + 2 * PAGE, PAGE)).toEqual(data.subarray(2 * PAGE));
    expect(mf.allocatedBytes()).toBe(2 * PAGE);
  });

  it('of a file mapping keeps the file offsets of the upper part', () => {
    const { mm } = newMM();
    const data = pattern(4 * PAGE, 2);
    const a = mm.mmap(0, 4 * PAGE, PROT_READ, MAP_PRIVATE, new BytesBacking(data), 0);
    mm.munmap(a, PAGE);
    expect(mm.copyIn(a + 3 * PAGE, 16)).toEqual(data.subarray(3 * PAGE, 3 * PAGE + 16));
  });

  it('EINVAL for unaligned or empty ranges; unmapped ranges are fine', () => {
    const { mm } = newMM();
    expect(errnoOf(() => mm.munmap(0x100001, PAGE))).toBe(EINVAL);
    expect(errnoOf(() => mm.munmap(0x100000, 0))).toBe(EINVAL);
    expect(errnoOf(() => mm.munmap(0x100000, 2 ** 60))).toBe(EINVAL);
    mm.munmap(0x100000, PAGE);
  });
});

describe('mprotect', () => {
  it('read-only then read-write, contents kept', () => {
    const { mm } = newMM();
    const a = mm.mmap(0, 2 * PAGE, RW, ANON, null, 0);
    mm.copyOut(a, new Uint8Array([42]));
    mm.mprotect(a, 2 * PAGE, PROT_READ);
    expect(mm.copyIn(a, 1)[0]).toBe(42);
    expect(errnoOf(() => mm.copyOut(a, new Uint8Array([1])))).toBe(EFAULT);
    expect(errnoOf(() => mm.copyOut(a + PAGE, new Uint8Array([1])))).toBe(EFAULT); // never touched either
    mm.mprotect(a, 2 * PAGE, RW);
    mm.copyOut(a + PAGE, new Uint8Array([7]));
    expect(mm.copyIn(a, 1)[0]).toBe(42);
    expect(mm.copyIn(a + PAGE, 1)[0]).toBe(7);
  });

  it('PROT_NONE hides the contents without losing them', () => {
    const { mm } = newMM();
    const a = mm.mmap(0, PAGE, RW, ANON, null, 0);
    mm.copyOut(a, new Uint8Array([9, 8]));
    mm.mprotect(a, PAGE, PROT_NONE);
    expect(errnoOf(() => mm.copyIn(a, 1))).toBe(EFAULT);
    mm.mprotect(a, PAGE, PROT_READ);
    expect(mm.copyIn(a, 2)).toEqual(new Uint8Array([9, 8]));
  });

  it('splits and merges back', () => {
    const { mm } = newMM();
    const a = mm.mmap(0, 3 * PAGE, RW, ANON, null, 0);
    mm.mprotect(a + PAGE, PAGE, PROT_READ);
    expect(mm.vmas.count).toBe(3);
    expect(mm.vmas.find(a + PAGE)?.prot).toBe(PROT_READ);
    mm.mprotect(a + PAGE, PAGE, RW);
    expect(mm.vmas.count).toBe(1);
  });

  it('errors: EINVAL unaligned or bad prot, ENOMEM over holes (nothing changed), EACCES over maxProt', () => {
    const { mm } = newMM();
    const a = mm.mmap(0, 3 * PAGE, RW, ANON, null, 0);
    expect(errnoOf(() => mm.mprotect(a + 1, PAGE, PROT_READ))).toBe(EINVAL);
    expect(errnoOf(() => mm.mprotect(a, PAGE, 0x10))).toBe(EINVAL);
    mm.munmap(a + PAGE, PAGE);
    expect(errnoOf(() => mm.mprotect(a, 3 * PAGE, PROT_READ))).toBe(ENOMEM);
    expect(mm.vmas.find(a)?.prot).toBe(RW);
    mm.mprotect(a, 0, PROT_READ); // empty: fine
    const f = mm.mmap(0, PAGE, PROT_READ, MAP_SHARED, new BytesBacking(new Uint8Array(PAGE)), 0, PROT_READ | PROT_EXEC);
    expect(errnoOf(() => mm.mprotect(f, PAGE, RW))).toBe(EACCES);
    mm.mprotect(f, PAGE, PROT_READ | PROT_EXEC);
  });

  it('PROT_GROWSDOWN extends the change to the start of a growsdown mapping', () => {
    const { mm } = newMM();
    const a = mm.mmap(0, 4 * PAGE, RW, ANON | MAP_GROWSDOWN, null, 0);
    mm.mprotect(a + 2 * PAGE, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN);
    expect(mm.vmas.find(a)?.prot).toBe(PROT_READ | PROT_WRITE | PROT_EXEC);
    expect(mm.vmas.find(a + 3 * PAGE)?.prot).toBe(RW);
    const b = mm.mmap(0, PAGE, RW, ANON, null, 0);
    expect(errnoOf(() => mm.mprotect(b, PAGE, PROT_READ | PROT_GROWSDOWN))).toBe(EINVAL);
  });
});
