import { describe, it, expect } from 'vitest';
import { RegisterArgs } from '../../../ts/syscalls/linux/args';
import { REGS_SLOTS, REG_R10, REG_R8, REG_R9, REG_RDI, REG_RDX, REG_RSI } from '../../../ts/native/addon';

describe('RegisterArgs', () => {
  const regs = new BigUint64Array(REGS_SLOTS);
  regs[REG_RDI] = 0xffff_ffff_ffff_fff6n; // -10
  regs[REG_RSI] = 0x7fff_ffff_f000n;
  regs[REG_RDX] = 0x1_0000_0005n; // int view sees only the low word
  regs[REG_R10] = 0x8000_0000n;
  regs[REG_R8] = 0n;
  regs[REG_R9] = 0xffff_ffff_ffff_ff9cn; // AT_FDCWD
  const a = new RegisterArgs(regs);

  it('reads the six argument registers in syscall order', () => {
    expect(a.int(0)).toBe(-10);
    expect(a.i64(0)).toBe(-10n);
    expect(a.long(0)).toBe(-10);
    expect(a.u64(0)).toBe(0xffff_ffff_ffff_fff6n);
    expect(a.ptr(1)).toBe(0x7fff_ffff_f000);
    expect(a.int(2)).toBe(5);
    expect(a.size(2)).toBe(0x1_0000_0005);
    expect(a.uint(3)).toBe(0x8000_0000);
    expect(a.int(3)).toBe(-0x8000_0000);
    expect(a.ptr(4)).toBe(0);
    expect(a.int(5)).toBe(-100);
  });

  it('sees register changes and can be re-pointed', () => {
    regs[REG_R8] = 77n;
    expect(a.int(4)).toBe(77);
    const other = new BigUint64Array(REGS_SLOTS);
    other[REG_RDI] = 3n;
    a.reset(other);
    expect(a.int(0)).toBe(3);
    a.reset(regs);
    expect(a.int(0)).toBe(-10);
  });

  it('starts empty until reset (the dispatcher constructs it without registers)', () => {
    const b = new RegisterArgs();
    b.reset(regs);
    expect(b.ptr(1)).toBe(0x7fff_ffff_f000);
  });
});
