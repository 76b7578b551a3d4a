// RegisterArgs: the six syscall arguments read straight out of a task's register file
// (x86-64 syscall convention: rdi, rsi, rdx, r10, r8, r9). One instance serves every call:
// reset() re-points it at another register file, and the 32-bit views it reads through are
// rebuilt only when the file changes, so decoding an argument allocates nothing unless a
// bigint is asked for.

import { REG_R10, REG_R8, REG_R9, REG_RDI, REG_RDX, REG_RSI } from '../../native/addon';
import type { SyscallArgs } from './types';

const SLOTS = [REG_RDI, REG_RSI, REG_RDX, REG_R10, REG_R8, REG_R9];
const TWO32 = 0x1_0000_0000;

export class RegisterArgs implements SyscallArgs {
  private regs: BigUint64Array = new BigUint64Array(0);
  private u32: Uint32Array = new Uint32Array(0);
  private i32: Int32Array = new Int32Array(0);

  constructor(regs?: BigUint64Array) {
    if (regs) this.reset(regs);
  }

  reset(regs: BigUint64Array): void {
    if (regs === this.regs) return;
    this.regs = regs;
    this.u32 = new Uint32Array(regs.buffer, regs.byteOffset, regs.length * 2);
    this.i32 = new Int32Array(regs.buffer, regs.byteOffset, regs.length * 2);
  }

  u64(i: number): bigint { return this.regs[SLOTS[i]]; }
  i64(i: number): bigint { return BigInt.asIntN(64, this.regs[SLOTS[i]]); }
  // Little-endian: the low word of slot s is 32-bit element 2s.
  int(i: number): number { return this.i32[SLOTS[i] * 2]; }
  uint(i: number): number { return this.u32[SLOTS[i] * 2]; }
  ptr(i: number): number { const s = SLOTS[i] * 2; return this.u32[s + 1] * TWO32 + this.u32[s]; }
  size(i: number): number { return this.ptr(i); }
  long(i: number): number { const s = SLOTS[i] * 2; return this.i32[s + 1] * TWO32 + this.u32[s]; }
}
