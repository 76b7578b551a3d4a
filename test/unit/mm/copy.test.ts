import { describe, it, expect } from 'vitest';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../../ts/abi/linux/mm';
import { E2BIG, EFAULT, ENAMETOOLONG } from '../../../ts/abi/linux/errno';
import { PAGE } from './fake_native';
import { errnoOf, newMM } from './helpers';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('copy helpers', () => {
  it('copyOut/copyIn across pages and VMAs', () => {
    const { mm } = newMM();
    const a = mm.mmap(0x6000_0000, PAGE, RW, ANON | MAP_FIXED, null, 0);
    mm.mmap(a + PAGE, PAGE, PROT_READ | PROT_WRITE, ANON | MAP_FIXED | 0x4000, null, 0);
    const src = new Uint8Array(100).map((_, i) => i);
    mm.copyOut(a + PAGE - 50, src);
    expect(mm.copyIn(a + PAGE - 50, 100)).toEqual(src);
    const dst = new Uint8Array(10);
    mm.copyInto(a + PAGE - 5, dst);
    expect(dst).toEqual(src.subarray(45, 55));
  });

  it('EFAULT on unmapped memory, read-only memory, and out-of-range pointers', () => {
    const { mm } = newMM();
    const ro = mm.mmap(0, PAGE, PROT_READ, ANON, null, 0);
    expect(errnoOf(() => mm.copyOut(ro, new Uint8Array(1)))).toBe(EFAULT);
    expect(errnoOf(() => mm.zeroOut(ro, 1))).toBe(EFAULT);
    expect(errnoOf(() => mm.writeU32(ro, 1))).toBe(EFAULT);
    expect(errnoOf(() => mm.copyOut(0x1000_0000, new Uint8Array(1)))).toBe(EFAULT);
    expect(errnoOf(() => mm.copyIn(0x1000_0000, 1))).toBe(EFAULT);
    expect(errnoOf(() => mm.readU64(1))).toBe(EFAULT);
    expect(errnoOf(() => mm.readU32(2 ** 64))).toBe(EFAULT);
    expect(errnoOf(() => mm.copyIn(-4096, 1))).toBe(EFAULT);
    // A copy that runs off the end of a mapping.
    const rw = mm.mmap(0x6100_0000, PAGE, RW, ANON | MAP_FIXED, null, 0);
    expect(errnoOf(() => mm.copyOut(rw + PAGE - 2, new Uint8Array(4)))).toBe(EFAULT);
    // Zero-length copies never fault.
    mm.copyOut(0x1000_0000, new Uint8Array(0));
    expect(mm.copyIn(1, 0).length).toBe(0);
  });

  it('fixed-size reads and writes', () => {
    const { mm } = newMM();
    const a = mm.mmap(0, PAGE, RW, ANON, null, 0);
    mm.writeU32(a, 0xdeadbeef);
    expect(mm.readU32(a)).toBe(0xdeadbeef);
    expect(mm.readI32(a)).toBe(0xdeadbeef | 0);
    mm.writeI32(a + 4, -2);
    expect(mm.readU32(a + 4)).toBe(0xfffffffe);
    mm.writeU64(a + 8, -1n);
    expect(mm.readU64(a + 8)).toBe(0xffff_ffff_ffff_ffffn);
    mm.writeU64(a + 16, 0x7fff_1234_5678n);
    expect(mm.readPtr(a + 16)).toBe(0x7fff_1234_5678);
    expect(errnoOf(() => mm.writeU64(a + PAGE - 4, 1n))).toBe(EFAULT); // runs into nothing
  });

  it('zeroOut', () => {
    const { mm } = newMM();
    const a = mm.mmap(0, 2 * PAGE, RW, ANON, null, 0);
    mm.copyOut(a, new Uint8Array(2 * PAGE).fill(0xff));
    mm.zeroOut(a + 10, PAGE);
    const back = mm.copyIn(a, 2 * PAGE);
    expect(back[9]).toBe(0xff);
    expect(back.subarray(10, 10 + PAGE).every((b) => b === 0)).toBe(true);
    expect(back[10 + PAGE]).toBe(0xff);
  });
});

describe('readCString / readStringVector', () => {
  it('reads strings, including ones ending right before an unmapped page', () => {
    const { mm } = newMM();
    const a = mm.mmap(0x6200_0000, 2 * PAGE, RW, ANON | MAP_FIXED, null, 0);
    mm.copyOut(a + PAGE - 3, enc('ab\0'));
    expect(mm.readCString(a + PAGE - 3, 4096)).toBe('ab');
    mm.copyOut(a + 2 * PAGE - 6, enc('héj\0'));
    expect(mm.readCString(a + 2 * PAGE - 6, 4096)).toBe('héj');
    // Crossing a page boundary.
    mm.copyOut(a + PAGE - 2, enc('xyzw\0'));
    expect(mm.readCString(a + PAGE - 2, 4096)).toBe('xyzw');
  });

  it('ENAMETOOLONG without a NUL within maxLen; EFAULT when it runs into a hole', () => {
    const { mm } = newMM();
    const a = mm.mmap(0x6300_0000, 3 * PAGE, RW, ANON | MAP_FIXED, null, 0);
    mm.copyOut(a, new Uint8Array(2 * PAGE).fill(0x41));
    expect(errnoOf(() => mm.readCString(a, 4096))).toBe(ENAMETOOLONG);
    expect(mm.readCString(a + 2 * PAGE - 4095, 4096)).toBe('A'.repeat(4095));
    expect(errnoOf(() => mm.readCString(a + 2 * PAGE - 4096, 4096))).toBe(ENAMETOOLONG);
    mm.copyOut(a + 2 * PAGE, new Uint8Array(PAGE).fill(0x42));
    expect(errnoOf(() => mm.readCString(a + 2 * PAGE + 10, 8192))).toBe(EFAULT);
    expect(errnoOf(() => mm.readCString(0x1000_0000, 10))).toBe(EFAULT);
  });

  it('reads NULL-terminated pointer arrays, E2BIG beyond the count', () => {
    const { mm } = newMM();
    const a = mm.mmap(0, PAGE, RW, ANON, null, 0);
    mm.copyOut(a + 100, enc('one\0two\0'));
    mm.writeU64(a, BigInt(a + 100));
    mm.writeU64(a + 8, BigInt(a + 104));
    mm.writeU64(a + 16, 0n);
    expect(mm.readStringVector(a, 10)).toEqual(['one', 'two']);
    expect(errnoOf(() => mm.readStringVector(a, 1))).toBe(E2BIG);
    mm.writeU64(a + 8, 5n);
    expect(errnoOf(() => mm.readStringVector(a, 10))).toBe(EFAULT);
  });
});
