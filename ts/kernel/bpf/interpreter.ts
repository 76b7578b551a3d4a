// The classic BPF interpreter for seccomp programs (gVisor pkg/bpf's role): runs a program
// checkClassic and checkSeccomp accepted over a seccomp_data held as sixteen 32-bit words.
// Jumps only go forward, so a run ends in at most `length` steps. Nothing is allocated per
// run: the scratch memory is one module-level array, reset as the rules require (a word is
// only read after a write on every path, so stale values are never observed).

import {
  BPF_ABS, BPF_ADD, BPF_ALU, BPF_AND, BPF_DIV, BPF_IMM, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT,
  BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_LDX, BPF_LSH, BPF_MEM, BPF_MISC, BPF_MUL, BPF_NEG,
  BPF_OR, BPF_RET, BPF_RSH, BPF_ST, BPF_STX, BPF_SUB, BPF_TAX, BPF_TXA, BPF_W, BPF_X, BPF_XOR,
  BPF_A,
} from './opcodes';
import type { BpfProgram } from './check';

const M = new Uint32Array(16);

/** Run p over `data` (32-bit words of struct seccomp_data); the u32 the program returns. */
export function runBpf(p: BpfProgram, data: Uint32Array): number {
  const code = p.code, jt = p.jt, jf = p.jf, kk = p.k, n = p.length;
  let A = 0, X = 0;
  for (let pc = 0; pc < n; pc++) {
    const k = kk[pc];
    switch (code[pc]) {
      case BPF_LD | BPF_W | BPF_ABS: A = data[k >>> 2]; break;
      case BPF_LD | BPF_IMM: A = k; break;
      case BPF_LDX | BPF_IMM: X = k; break;
      case BPF_LD | BPF_MEM: A = M[k]; break;
      case BPF_LDX | BPF_MEM: X = M[k]; break;
      case BPF_ST: M[k] = A; break;
      case BPF_STX: M[k] = X; break;
      case BPF_MISC | BPF_TAX: X = A; break;
      case BPF_MISC | BPF_TXA: A = X; break;
      case BPF_ALU | BPF_ADD | BPF_K: A = (A + k) >>> 0; break;
      case BPF_ALU | BPF_ADD | BPF_X: A = (A + X) >>> 0; break;
      case BPF_ALU | BPF_SUB | BPF_K: A = (A - k) >>> 0; break;
      case BPF_ALU | BPF_SUB | BPF_X: A = (A - X) >>> 0; break;
      case BPF_ALU | BPF_MUL | BPF_K: A = Math.imul(A, k) >>> 0; break;
      case BPF_ALU | BPF_MUL | BPF_X: A = Math.imul(A, X) >>> 0; break;
      case BPF_ALU | BPF_DIV | BPF_K: A = Math.floor(A / k) >>> 0; break;
      case BPF_ALU | BPF_DIV | BPF_X:
        // Classic BPF: dividing by a zero X ends the program with 0 (Linux's conversion).
        if (X === 0) return 0;
        A = Math.floor(A / X) >>> 0;
        break;
      case BPF_ALU | BPF_AND | BPF_K: A = (A & k) >>> 0; break;
      case BPF_ALU | BPF_AND | BPF_X: A = (A & X) >>> 0; break;
      case BPF_ALU | BPF_OR | BPF_K: A = (A | k) >>> 0; break;
      case BPF_ALU | BPF_OR | BPF_X: A = (A | X) >>> 0; break;
      case BPF_ALU | BPF_XOR | BPF_K: A = (A ^ k) >>> 0; break;
      case BPF_ALU | BPF_XOR | BPF_X: A = (A ^ X) >>> 0; break;
      // A shift by X takes X mod 32, as the kernel's 32-bit ALU does.
      case BPF_ALU | BPF_LSH | BPF_K: A = (A << k) >>> 0; break;
      case BPF_ALU | BPF_LSH | BPF_X: A = (A << (X & 31)) >>> 0; break;
      case BPF_ALU | BPF_RSH | BPF_K: A = A >>> k; break;
      case BPF_ALU | BPF_RSH | BPF_X: A = A >>> (X & 31); break;
      case BPF_ALU | BPF_NEG: A = (-A) >>> 0; break;
      case BPF_JMP | BPF_JA: pc += k; break;
      case BPF_JMP | BPF_JEQ | BPF_K: pc += A === k ? jt[pc] : jf[pc]; break;
      case BPF_JMP | BPF_JEQ | BPF_X: pc += A === X ? jt[pc] : jf[pc]; break;
      case BPF_JMP | BPF_JGT | BPF_K: pc += A > k ? jt[pc] : jf[pc]; break;
      case BPF_JMP | BPF_JGT | BPF_X: pc += A > X ? jt[pc] : jf[pc]; break;
      case BPF_JMP | BPF_JGE | BPF_K: pc += A >= k ? jt[pc] : jf[pc]; break;
      case BPF_JMP | BPF_JGE | BPF_X: pc += A >= X ? jt[pc] : jf[pc]; break;
      case BPF_JMP | BPF_JSET | BPF_K: pc += (A & k) !== 0 ? jt[pc] : jf[pc]; break;
      case BPF_JMP | BPF_JSET | BPF_X: pc += (A & X) !== 0 ? jt[pc] : jf[pc]; break;
      case BPF_RET | BPF_K: return k;
      case BPF_RET | BPF_A: return A;
      default:
        // Unreachable for a checked program; a run never goes past its end either.
        return 0;
    }
  }
  return 0;
}
