// The classic BPF interpreter for seccomp programs (gVisor pkg/bpf's role): runs a program
// checkClassic and checkSeccomp accepted over a seccomp_data held as sixteen 32-bit words.
// Jumps only go forward, so a run ends in at most `length` steps. Nothing is allocated per
// run: the scratch memory is one module-level array, which needs no reset (the validator
// proved that no word is read before the same run wrote it). The validator leaves each
// instruction's dense operation number (OP_*) in `op`, so the switch below is a jump table.

import {
  BPF_ABS, BPF_ADD, BPF_ALU, BPF_AND, BPF_DIV, BPF_IMM, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT,
  BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_LDX, BPF_LSH, BPF_MEM, BPF_MISC, BPF_MUL, BPF_NEG,
  BPF_OR, BPF_RET, BPF_RSH, BPF_ST, BPF_STX, BPF_SUB, BPF_TAX, BPF_TXA, BPF_W, BPF_X, BPF_XOR,
  BPF_A,
} from './opcodes';
import type { BpfProgram } from './check';

// The seccomp instruction set, in the order of the OP_* numbers the switch uses.
const OPS = [
  BPF_LD | BPF_W | BPF_ABS, BPF_JMP | BPF_JEQ | BPF_K, BPF_RET | BPF_K, BPF_RET | BPF_A,
  BPF_JMP | BPF_JA, BPF_JMP | BPF_JEQ | BPF_X, BPF_JMP | BPF_JGT | BPF_K, BPF_JMP | BPF_JGT | BPF_X,
  BPF_JMP | BPF_JGE | BPF_K, BPF_JMP | BPF_JGE | BPF_X, BPF_JMP | BPF_JSET | BPF_K,
  BPF_JMP | BPF_JSET | BPF_X, BPF_LD | BPF_IMM, BPF_LDX | BPF_IMM, BPF_LD | BPF_MEM,
  BPF_LDX | BPF_MEM, BPF_ST, BPF_STX, BPF_MISC | BPF_TAX, BPF_MISC | BPF_TXA,
  BPF_ALU | BPF_ADD | BPF_K, BPF_ALU | BPF_ADD | BPF_X, BPF_ALU | BPF_SUB | BPF_K,
  BPF_ALU | BPF_SUB | BPF_X, BPF_ALU | BPF_MUL | BPF_K, BPF_ALU | BPF_MUL | BPF_X,
  BPF_ALU | BPF_DIV | BPF_K, BPF_ALU | BPF_DIV | BPF_X, BPF_ALU | BPF_AND | BPF_K,
  BPF_ALU | BPF_AND | BPF_X, BPF_ALU | BPF_OR | BPF_K, BPF_ALU | BPF_OR | BPF_X,
  BPF_ALU | BPF_XOR | BPF_K, BPF_ALU | BPF_XOR | BPF_X, BPF_ALU | BPF_LSH | BPF_K,
  BPF_ALU | BPF_LSH | BPF_X, BPF_ALU | BPF_RSH | BPF_K, BPF_ALU | BPF_RSH | BPF_X, BPF_ALU | BPF_NEG,
];
const OP_INDEX = new Map(OPS.map((c, i) => [c, i]));

/** The dense operation number of a seccomp-allowed opcode, -1 for any other. */
export function denseOp(code: number): number {
  return OP_INDEX.get(code) ?? -1;
}

const M = new Uint32Array(16);

/** Run p over `data` (32-bit words of struct seccomp_data); the u32 the program returns. */
export function runBpf(p: BpfProgram, data: Uint32Array): number {
  const op = p.op, jt = p.jt, jf = p.jf, kk = p.k, n = p.length;
  let A = 0, X = 0;
  for (let pc = 0; pc < n; pc++) {
    const k = kk[pc];
    switch (op[pc]) {
      case 0: A = data[k >>> 2]; break;
      case 1: pc += A === k ? jt[pc] : jf[pc]; break;
      case 2: return k;
      case 3: return A;
      case 4: pc += k; break;
      case 5: pc += A === X ? jt[pc] : jf[pc]; break;
      case 6: pc += A > k ? jt[pc] : jf[pc]; break;
      case 7: pc += A > X ? jt[pc] : jf[pc]; break;
      case 8: pc += A >= k ? jt[pc] : jf[pc]; break;
      case 9: pc += A >= X ? jt[pc] : jf[pc]; break;
      case 10: pc += (A & k) !== 0 ? jt[pc] : jf[pc]; break;
      case 11: pc += (A & X) !== 0 ? jt[pc] : jf[pc]; break;
      case 12: A = k; break;
      case 13: X = k; break;
      case 14: A = M[k]; break;
      case 15: X = M[k]; break;
      case 16: M[k] = A; break;
      case 17: M[k] = X; break;
      case 18: X = A; break;
      case 19: A = X; break;
      case 20: A = (A + k) >>> 0; break;
      case 21: A = (A + X) >>> 0; break;
      case 22: A = (A - k) >>> 0; break;
      case 23: A = (A - X) >>> 0; break;
      case 24: A = Math.imul(A, k) >>> 0; break;
      case 25: A = Math.imul(A, X) >>> 0; break;
      case 26: A = Math.floor(A / k) >>> 0; break;
      case 27:
        // Classic BPF: dividing by a zero X ends the program with 0 (Linux's conversion).
        if (X === 0) return 0;
        A = Math.floor(A / X) >>> 0;
        break;
      case 28: A = (A & k) >>> 0; break;
      case 29: A = (A & X) >>> 0; break;
      case 30: A = (A | k) >>> 0; break;
      case 31: A = (A | X) >>> 0; break;
      case 32: A = (A ^ k) >>> 0; break;
      case 33: A = (A ^ X) >>> 0; break;
      // A shift by X takes X mod 32, as the kernel's 32-bit ALU does.
      case 34: A = (A << k) >>> 0; break;
      case 35: A = (A << (X & 31)) >>> 0; break;
      case 36: A = A >>> k; break;
      case 37: A = A >>> (X & 31); break;
      case 38: A = (-A) >>> 0; break;
      default:
        // Unreachable for a checked program; a run never goes past its end either.
        return 0;
    }
  }
  return 0;
}
