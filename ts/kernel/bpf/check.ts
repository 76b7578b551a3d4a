// Validation of a classic BPF program as Linux's bpf_check_classic (net/core/filter.c)
// does, followed by the seccomp restrictions of seccomp_check_filter (kernel/seccomp.c):
// only 32-bit aligned absolute loads inside struct seccomp_data, no packet or ancillary
// loads, no MOD. Every failure is EINVAL. The result is the program pre-decoded into typed
// arrays for the interpreter (interpreter.ts), with BPF_LEN already turned into an
// immediate, as Linux rewrites it.

import {
  BPF_A, BPF_ABS, BPF_ADD, BPF_ALU, BPF_AND, BPF_B, BPF_DIV, BPF_H, BPF_IMM, BPF_IND, BPF_JA,
  BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH,
  BPF_MAXINSNS, BPF_MEM, BPF_MEMWORDS, BPF_MISC, BPF_MOD, BPF_MSH, BPF_MUL, BPF_NEG, BPF_OR,
  BPF_RET, BPF_RSH, BPF_ST, BPF_STX, BPF_SUB, BPF_TAX, BPF_TXA, BPF_W, BPF_X, BPF_XOR,
  SOCK_FILTER_SIZE,
} from './opcodes';
import { denseOp } from './interpreter';

/** A validated program: instruction i is (code[i], jt[i], jf[i], k[i]). */
export interface BpfProgram {
  readonly length: number;
  readonly code: Uint16Array;
  readonly jt: Uint8Array;
  readonly jf: Uint8Array;
  readonly k: Uint32Array;
  /** The interpreter's operation number of each instruction, set by checkSeccomp. */
  readonly op: Uint8Array;
}

/** Thrown for a program Linux refuses (the caller answers EINVAL). */
export class BpfInvalid extends Error {}

function invalid(why: string): never {
  throw new BpfInvalid(why);
}

// Every opcode classic BPF knows (bpf_check_classic's codes[] table).
const CLASSIC = new Set<number>();
for (const op of [BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH]) {
  CLASSIC.add(BPF_ALU | op | BPF_K);
  CLASSIC.add(BPF_ALU | op | BPF_X);
}
CLASSIC.add(BPF_ALU | BPF_NEG);
for (const size of [BPF_W, BPF_H, BPF_B]) {
  CLASSIC.add(BPF_LD | size | BPF_ABS);
  CLASSIC.add(BPF_LD | size | BPF_IND);
}
for (const c of [BPF_LD | BPF_W | BPF_LEN, BPF_LD | BPF_MEM, BPF_LD | BPF_IMM, BPF_LDX | BPF_W | BPF_LEN,
  BPF_LDX | BPF_B | BPF_MSH, BPF_LDX | BPF_IMM, BPF_LDX | BPF_MEM, BPF_ST, BPF_STX,
  BPF_MISC | BPF_TAX, BPF_MISC | BPF_TXA, BPF_RET | BPF_K, BPF_RET | BPF_A, BPF_JMP | BPF_JA]) CLASSIC.add(c);
for (const op of [BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET]) {
  CLASSIC.add(BPF_JMP | op | BPF_K);
  CLASSIC.add(BPF_JMP | op | BPF_X);
}

// What seccomp_check_filter lets through (after the loads it rewrites).
const SECCOMP_ALLOWED = new Set<number>([
  BPF_RET | BPF_K, BPF_RET | BPF_A, BPF_ALU | BPF_NEG, BPF_LD | BPF_IMM, BPF_LDX | BPF_IMM,
  BPF_MISC | BPF_TAX, BPF_MISC | BPF_TXA, BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM, BPF_ST, BPF_STX,
  BPF_JMP | BPF_JA,
]);
for (const op of [BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH]) {
  SECCOMP_ALLOWED.add(BPF_ALU | op | BPF_K);
  SECCOMP_ALLOWED.add(BPF_ALU | op | BPF_X);
}
for (const op of [BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET]) {
  SECCOMP_ALLOWED.add(BPF_JMP | op | BPF_K);
  SECCOMP_ALLOWED.add(BPF_JMP | op | BPF_X);
}

function isCondJump(code: number): boolean {
  return (code & 0x07) === BPF_JMP && (code & 0xf0) !== BPF_JA;
}

/** Decode `len` sock_filter entries from raw bytes (little-endian, as on x86-64). */
export function decodeSockFilters(bytes: Uint8Array, len: number): BpfProgram {
  if (len < 1 || len > BPF_MAXINSNS) invalid('length');
  if (bytes.length < len * SOCK_FILTER_SIZE) invalid('short');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const code = new Uint16Array(len), jt = new Uint8Array(len), jf = new Uint8Array(len), k = new Uint32Array(len);
  for (let i = 0; i < len; i++) {
    const o = i * SOCK_FILTER_SIZE;
    code[i] = v.getUint16(o, true);
    jt[i] = bytes[o + 2];
    jf[i] = bytes[o + 3];
    k[i] = v.getUint32(o + 4, true);
  }
  return { length: len, code, jt, jf, k, op: new Uint8Array(len) };
}

/** bpf_check_classic: opcodes, constants, jump targets, the final RET, and the rule that no
 *  scratch word is read before every path to the read has written it. */
export function checkClassic(p: BpfProgram): void {
  const n = p.length;
  if (n < 1 || n > BPF_MAXINSNS) invalid('length');
  for (let pc = 0; pc < n; pc++) {
    const code = p.code[pc], k = p.k[pc];
    if (!CLASSIC.has(code)) invalid(`opcode 0x${code.toString(16)} at ${pc}`);
    switch (code) {
      case BPF_ALU | BPF_DIV | BPF_K:
      case BPF_ALU | BPF_MOD | BPF_K:
        if (k === 0) invalid('division by zero');
        break;
      case BPF_ALU | BPF_LSH | BPF_K:
      case BPF_ALU | BPF_RSH | BPF_K:
        if (k >= 32) invalid('shift');
        break;
      case BPF_LD | BPF_MEM: case BPF_LDX | BPF_MEM: case BPF_ST: case BPF_STX:
        if (k >= BPF_MEMWORDS) invalid('scratch index');
        break;
      case BPF_JMP | BPF_JA:
        if (k >= n - 1 - pc) invalid('jump out of range');
        break;
      default:
        if (isCondJump(code) && (pc + p.jt[pc] + 1 >= n || pc + p.jf[pc] + 1 >= n)) invalid('jump out of range');
    }
  }
  const last = p.code[n - 1];
  if (last !== (BPF_RET | BPF_K) && last !== (BPF_RET | BPF_A)) invalid('no final return');
  checkLoadsAndStores(p);
}

function checkLoadsAndStores(p: BpfProgram): void {
  const n = p.length;
  const masks = new Uint16Array(n).fill(0xffff);
  let valid = 0;
  for (let pc = 0; pc < n; pc++) {
    valid &= masks[pc];
    const code = p.code[pc];
    if (code === BPF_ST || code === BPF_STX) {
      valid |= 1 << p.k[pc];
    } else if (code === (BPF_LD | BPF_MEM) || code === (BPF_LDX | BPF_MEM)) {
      if ((valid & (1 << p.k[pc])) === 0) invalid('scratch read before write');
    } else if (code === (BPF_JMP | BPF_JA)) {
      masks[pc + 1 + p.k[pc]] &= valid;
      valid = 0xffff;
    } else if (isCondJump(code)) {
      masks[pc + 1 + p.jt[pc]] &= valid;
      masks[pc + 1 + p.jf[pc]] &= valid;
      valid = 0xffff;
    }
  }
}

/** seccomp_check_filter, on a program checkClassic accepted: rewrites the loads in place. */
export function checkSeccomp(p: BpfProgram, dataSize: number): void {
  for (let pc = 0; pc < p.length; pc++) {
    const code = p.code[pc];
    if (code === (BPF_LD | BPF_W | BPF_ABS)) {
      if (p.k[pc] >= dataSize || (p.k[pc] & 3) !== 0) invalid('load outside seccomp_data');
    } else if (code === (BPF_LD | BPF_W | BPF_LEN)) {
      p.code[pc] = BPF_LD | BPF_IMM;
      p.k[pc] = dataSize;
    } else if (code === (BPF_LDX | BPF_W | BPF_LEN)) {
      p.code[pc] = BPF_LDX | BPF_IMM;
      p.k[pc] = dataSize;
    } else if (!SECCOMP_ALLOWED.has(code)) {
      invalid(`opcode 0x${code.toString(16)} not allowed in seccomp`);
    }
    p.op[pc] = denseOp(p.code[pc]);
  }
}
