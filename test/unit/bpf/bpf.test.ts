// The classic BPF validator and interpreter (ts/kernel/bpf) on hand-assembled programs, and a
// fuzzer from a fixed seed: random programs never throw anything but BpfInvalid out of the
// validator, and the interpreter ends every accepted one within its length.
import { describe, expect, it } from 'vitest';
import {
  BPF_A, BPF_ABS, BPF_ADD, BPF_ALU, BPF_DIV, BPF_IMM, BPF_JA, BPF_JEQ, BPF_JGT, BPF_JMP, BPF_JSET,
  BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH, BPF_MEM, BPF_MISC, BPF_MUL, BPF_NEG, BPF_RET, BPF_RSH,
  BPF_ST, BPF_SUB, BPF_TAX, BPF_W, BPF_X, BpfInvalid, type BpfProgram, checkClassic, checkSeccomp,
  convertedLength, decodeSockFilters, runBpf,
} from '../../../ts/kernel/bpf';
import { runFilters, type SeccompFilter } from '../../../ts/kernel/seccomp';

type Insn = [number, number, number, number];

function assemble(insns: Insn[]): Uint8Array {
  const b = new Uint8Array(insns.length * 8);
  const v = new DataView(b.buffer);
  insns.forEach(([code, jt, jf, k], i) => {
    v.setUint16(i * 8, code, true);
    b[i * 8 + 2] = jt;
    b[i * 8 + 3] = jf;
    v.setUint32(i * 8 + 4, k >>> 0, true);
  });
  return b;
}

function load(insns: Insn[]): BpfProgram {
  const p = decodeSockFilters(assemble(insns), insns.length);
  checkClassic(p);
  checkSeccomp(p, 64);
  return p;
}

function data(nr: number, arch = 0xc000003e, args: number[] = []): Uint32Array {
  const d = new Uint32Array(16);
  d[0] = nr;
  d[1] = arch;
  args.forEach((a, i) => { d[4 + i * 2] = a; });
  return d;
}

const RET = (k: number): Insn => [BPF_RET | BPF_K, 0, 0, k];

describe('validator', () => {
  const bad: [string, Insn[]][] = [
    ['unknown opcode', [[0xffff, 0, 0, 0], RET(0)]],
    ['jump past the end', [[BPF_JMP | BPF_JA, 0, 0, 1], RET(0)]],
    ['backward jump (wraps)', [[BPF_JMP | BPF_JA, 0, 0, 0xffffffff], RET(0)]],
    ['conditional past the end', [[BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0], RET(0)]],
    ['division by constant zero', [[BPF_ALU | BPF_DIV | BPF_K, 0, 0, 0], RET(0)]],
    ['shift by 32', [[BPF_ALU | BPF_RSH | BPF_K, 0, 0, 32], RET(0)]],
    ['load at 64', [[BPF_LD | BPF_W | BPF_ABS, 0, 0, 64], RET(0)]],
    ['unaligned load', [[BPF_LD | BPF_W | BPF_ABS, 0, 0, 6], RET(0)]],
    ['scratch read before write', [[BPF_LD | BPF_MEM, 0, 0, 0], RET(0)]],
    ['scratch written on one path only', [
      [BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0], [BPF_ST, 0, 0, 2], [BPF_LD | BPF_MEM, 0, 0, 2], RET(0)]],
    ['no final return', [RET(0), [BPF_LD | BPF_IMM, 0, 0, 0]]],
  ];
  it.each(bad)('refuses %s', (_, insns) => {
    expect(() => load(insns)).toThrow(BpfInvalid);
  });
  it('refuses lengths 0 and 4097', () => {
    expect(() => decodeSockFilters(new Uint8Array(0), 0)).toThrow(BpfInvalid);
    expect(() => decodeSockFilters(assemble(Array(4097).fill(RET(0))), 4097)).toThrow(BpfInvalid);
  });
  it('rewrites BPF_LEN into the size of seccomp_data', () => {
    const p = load([[BPF_LD | BPF_W | BPF_LEN, 0, 0, 0], [BPF_RET | BPF_A, 0, 0, 0]]);
    expect(runBpf(p, data(0))).toBe(64);
  });
});

describe('interpreter', () => {
  it('matches the syscall number and arch', () => {
    const p = load([
      [BPF_LD | BPF_W | BPF_ABS, 0, 0, 4], [BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0xc000003e], RET(0),
      [BPF_LD | BPF_W | BPF_ABS, 0, 0, 0], [BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 39], RET(0x50001), RET(0x7fff0000),
    ]);
    expect(runBpf(p, data(39))).toBe(0x50001);
    expect(runBpf(p, data(40))).toBe(0x7fff0000);
    expect(runBpf(p, data(39, 0x40000003))).toBe(0);
  });
  it('does u32 arithmetic, scratch memory and X', () => {
    const p = load([
      [BPF_LD | BPF_IMM, 0, 0, 0xffffffff], [BPF_ALU | BPF_ADD | BPF_K, 0, 0, 2], // 1
      [BPF_ALU | BPF_MUL | BPF_K, 0, 0, 0x80000001], // 0x80000001
      [BPF_ST, 0, 0, 3], [BPF_LDX | BPF_MEM, 0, 0, 3], [BPF_ALU | BPF_SUB | BPF_X, 0, 0, 0], // 0
      [BPF_ALU | BPF_NEG, 0, 0, 0], [BPF_ALU | BPF_ADD | BPF_K, 0, 0, 5], [BPF_MISC | BPF_TAX, 0, 0, 0],
      [BPF_LD | BPF_IMM, 0, 0, 1], [BPF_ALU | BPF_LSH | BPF_X, 0, 0, 0], // 1 << 5
      [BPF_ALU | BPF_RSH | BPF_K, 0, 0, 1], // 16
      [BPF_JMP | BPF_JSET | BPF_K, 0, 1, 16], [BPF_JMP | BPF_JGT | BPF_K, 0, 0, 0], // either way on
      [BPF_RET | BPF_A, 0, 0, 0],
    ]);
    expect(runBpf(p, data(0))).toBe(16);
  });
  it('returns 0 when dividing by a zero X', () => {
    const p = load([[BPF_LD | BPF_IMM, 0, 0, 7], [BPF_ALU | BPF_DIV | BPF_X, 0, 0, 0], RET(0x7fff0000)]);
    expect(runBpf(p, data(0))).toBe(0);
  });
  it('reads 64-bit arguments as two words', () => {
    const p = load([[BPF_LD | BPF_W | BPF_ABS, 0, 0, 16], [BPF_RET | BPF_A, 0, 0, 0]]);
    expect(runBpf(p, data(0, 0, [1234]))).toBe(1234);
  });
  it('stacked filters: the most restrictive action, the newest among equals', () => {
    const mk = (ret: number, prev: SeccompFilter | null): SeccompFilter =>
      ({ prog: load([RET(ret)]), prev, log: false, count: 0, insns: 0 });
    let f = mk(0x50001, null);
    f = mk(0x50002, f);
    expect(runFilters(f, data(0))).toBe(0x50002);
    expect(runFilters(mk(0x7fff0000, mk(0x80000000, f)), data(0))).toBe(0x80000000);
    expect(runFilters(mk(0x30000, mk(0x7ffc0000, null)), data(0))).toBe(0x30000);
    expect(runFilters(mk(0x00010000, mk(0x30000, null)), data(0))).toBe(0x00010000);
  });
});

describe('converted length (the path limit)', () => {
  // Lengths that reproduce the install counts measured on Linux 6.18 (fixture seccomp.c, limits).
  it.each([
    ['4096 RET', [...Array(4096)].map(() => RET(0x7fff0000)), 3 + 2 * 4096],
    ['JEQ with jf 0', [...Array(4095)].map((): Insn => [BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 5]).concat([RET(0)]), 3 + 4095 + 2],
    ['JEQ with a high immediate', [[BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0xc000003e], RET(0)] as Insn[], 3 + 2 + 2],
    ['JSET with jt 0', [[BPF_JMP | BPF_JSET | BPF_K, 0, 1, 5], RET(0), RET(0)] as Insn[], 3 + 2 + 4],
    ['JEQ inverted', [[BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 5], RET(0), RET(0)] as Insn[], 3 + 1 + 4],
    ['JEQ both ways', [[BPF_JMP | BPF_JEQ | BPF_K, 1, 1, 5], RET(0), RET(0), RET(0)] as Insn[], 3 + 2 + 6],
    ['DIV X', [[BPF_ALU | BPF_DIV | BPF_X, 0, 0, 0], RET(0)] as Insn[], 3 + 5 + 2],
  ])('%s', (_, insns, expected) => {
    expect(convertedLength(load(insns as Insn[]))).toBe(expected);
  });
});

describe('fuzz (fixed seed)', () => {
  it('random programs: only BpfInvalid, and accepted ones end', () => {
    let seed = 0x5eccc0;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    const CODES = [BPF_LD | BPF_W | BPF_ABS, BPF_LD | BPF_IMM, BPF_LDX | BPF_IMM, BPF_LD | BPF_MEM,
      BPF_ST, BPF_ALU | BPF_ADD | BPF_X, BPF_ALU | BPF_DIV | BPF_K, BPF_ALU | BPF_DIV | BPF_X,
      BPF_JMP | BPF_JA, BPF_JMP | BPF_JEQ | BPF_K, BPF_JMP | BPF_JGT | BPF_X, BPF_RET | BPF_K,
      BPF_RET | BPF_A, BPF_MISC | BPF_TAX, BPF_ALU | BPF_LSH | BPF_K];
    let accepted = 0;
    for (let iter = 0; iter < 3000; iter++) {
      const len = 1 + (rnd() % 40);
      const bytes = new Uint8Array(len * 8);
      for (let i = 0; i < bytes.length; i++) bytes[i] = rnd() & 0xff;
      // Half the time, plausible opcodes and small operands, so that some programs pass.
      if (iter % 2 === 0) {
        const v = new DataView(bytes.buffer);
        for (let i = 0; i < len; i++) {
          v.setUint16(i * 8, CODES[rnd() % CODES.length], true);
          bytes[i * 8 + 2] = rnd() % 4;
          bytes[i * 8 + 3] = rnd() % 4;
          v.setUint32(i * 8 + 4, (rnd() % 5) * 4, true);
        }
        v.setUint16((len - 1) * 8, BPF_RET | BPF_K, true);
      }
      let p: BpfProgram;
      try {
        p = decodeSockFilters(bytes, len);
        checkClassic(p);
        checkSeccomp(p, 64);
      } catch (e) {
        expect(e).toBeInstanceOf(BpfInvalid);
        continue;
      }
      accepted++;
      // Every accepted instruction has an operation the interpreter knows.
      expect(p.op.every((o) => o < 39)).toBe(true);
      const r = runBpf(p, data(rnd() % 400, rnd(), [rnd(), rnd()]));
      expect(Number.isInteger(r) && r >= 0 && r <= 0xffffffff).toBe(true);
    }
    expect(accepted).toBeGreaterThan(100);
  });
});
