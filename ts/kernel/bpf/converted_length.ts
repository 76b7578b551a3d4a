// How many eBPF instructions Linux's bpf_convert_filter makes of a checked seccomp program:
// seccomp's path limit (MAX_INSNS_PER_PATH) counts those, not the classic ones, so the
// sandbox must count the same way to accept exactly the stacks Linux accepts. Only the
// length matters here; the sentry never builds the eBPF program.

import type { BpfProgram } from './check';
import {
  BPF_ALU, BPF_DIV, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_K, BPF_RET, BPF_X,
} from './opcodes';

/** The prologue: A = 0, X = 0, and the context pointer kept in a callee-saved register. */
const PROLOGUE = 3;

export function convertedLength(p: BpfProgram): number {
  let n = PROLOGUE;
  for (let pc = 0; pc < p.length; pc++) {
    const code = p.code[pc];
    const cls = code & 0x07;
    if (cls === BPF_RET) {
      n += 2; // r0 = value; exit
    } else if (code === (BPF_ALU | BPF_DIV | BPF_X)) {
      n += 5; // zero-extend X; if X != 0 skip; A = 0; exit; A /= X
    } else if (cls === BPF_JMP && (code & 0xf0) !== BPF_JA) {
      // An immediate with its top bit set goes through a register first (eBPF sign-extends).
      if ((code & BPF_X) === BPF_K && p.k[pc] >= 0x8000_0000) n++;
      const op = code & 0xf0;
      if (p.jf[pc] === 0) n += 1;
      else if (p.jt[pc] === 0 && (op === BPF_JEQ || op === BPF_JGT || op === BPF_JGE)) n += 1; // inverted
      else n += 2; // Jxx to jt, then JA to jf
    } else {
      n += 1;
    }
  }
  return n;
}
