// Classic BPF on packets (Linux net/core/filter.c's socket filters): runs a program
// checkClassic accepted on one received packet, the transport header at offset 0;
// SKF_NET_OFF reaches the IP header, SKF_AD_OFF the few ancillary values an inet socket has
// (protocol, packet type, ifindex). The result is how many bytes to keep: 0 drops the
// packet. A load outside the packet or a division by zero ends the run with 0, as Linux's
// interpreter does. Jumps only go forward, so a run takes at most `length` steps.

import {
  BPF_A, BPF_ADD, BPF_ALU, BPF_AND, BPF_B, BPF_DIV, BPF_H, BPF_IMM, BPF_IND, BPF_JA, BPF_JEQ, BPF_JGE,
  BPF_JGT, BPF_JMP, BPF_JSET, BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH, BPF_MEM, BPF_MISC, BPF_MOD,
  BPF_MSH, BPF_MUL, BPF_NEG, BPF_OR, BPF_RET, BPF_RSH, BPF_ST, BPF_STX, BPF_SUB, BPF_TXA, BPF_TAX, BPF_X, BPF_XOR,
} from './opcodes';
import type { BpfProgram } from './check';

/** Where a socket's program is kept (sk_filter); null prog: none attached. */
export interface FilterSlot { prog: BpfProgram | null }

/** SKF_AD_OFF, SKF_NET_OFF, SKF_LL_OFF as the u32 a load's k holds. */
const SKF_AD_OFF = 0xfffff000;
const SKF_NET_OFF = 0xfff00000;
const SKF_AD_PROTOCOL = 0, SKF_AD_PKTTYPE = 4, SKF_AD_IFINDEX = 8;
const ETH_P_IP = 0x0800, ETH_P_IPV6 = 0x86dd;

/** What a filter sees of one packet: the transport header and data, the IP packet. */
export interface FilterPacket { pkt: Uint8Array; net: Uint8Array; ifindex: number }

/** Bytes at off of size 1, 2 or 4 (big-endian, as BPF loads), or -1 outside. */
function load(p: FilterPacket, k: number, size: number): number {
  let buf = p.pkt;
  let off = k;
  if (k >= SKF_AD_OFF) {
    switch (k - SKF_AD_OFF) {
      case SKF_AD_PROTOCOL: return p.net.length > 0 && p.net[0] >> 4 === 6 ? ETH_P_IPV6 : ETH_P_IP;
      case SKF_AD_PKTTYPE: return 0; // PACKET_HOST
      case SKF_AD_IFINDEX: return p.ifindex;
      default: return -1;
    }
  }
  if (k >= SKF_NET_OFF) { buf = p.net; off = k - SKF_NET_OFF; } else if (k > 0x7fffffff) return -1;
  if (off + size > buf.length) return -1;
  if (size === 1) return buf[off];
  if (size === 2) return (buf[off] << 8) | buf[off + 1];
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

const M = new Uint32Array(16);

/** Run a checked program on a packet: the bytes to keep (0: drop). */
export function runSockFilter(prog: BpfProgram, p: FilterPacket): number {
  const { code, jt, jf, k: ks, length: n } = prog;
  let A = 0, X = 0;
  for (let pc = 0; pc < n; pc++) {
    const c = code[pc], k = ks[pc];
    switch (c & 0x07) {
      case BPF_LD: case BPF_LDX: {
        const mode = c & 0xe0;
        let v: number;
        if (mode === BPF_IMM) v = k;
        else if (mode === BPF_MEM) v = M[k];
        else if (mode === BPF_LEN) v = p.pkt.length;
        else if (mode === BPF_MSH) {
          const b = load(p, k, 1);
          if (b < 0) return 0;
          X = (b & 0xf) << 2;
          break;
        } else {
          const size = (c & 0x18) === BPF_B ? 1 : (c & 0x18) === BPF_H ? 2 : 4;
          v = load(p, mode === BPF_IND ? (X + k) >>> 0 : k, size);
          if (v < 0) return 0;
        }
        if ((c & 0x07) === BPF_LD) A = v >>> 0; else X = v >>> 0;
        break;
      }
      case BPF_ST: M[k] = A; break;
      case BPF_STX: M[k] = X; break;
      case BPF_ALU: {
        if ((c & 0xf0) === BPF_NEG) { A = (-A) >>> 0; break; }
        const x = (c & BPF_X) ? X : k;
        switch (c & 0xf0) {
          case BPF_ADD: A = (A + x) >>> 0; break;
          case BPF_SUB: A = (A - x) >>> 0; break;
          case BPF_MUL: A = Math.imul(A, x) >>> 0; break;
          case BPF_DIV: if (x === 0) return 0; A = Math.floor(A / x) >>> 0; break;
          case BPF_MOD: if (x === 0) return 0; A = (A % x) >>> 0; break;
          case BPF_OR: A = (A | x) >>> 0; break;
          case BPF_AND: A = (A & x) >>> 0; break;
          case BPF_XOR: A = (A ^ x) >>> 0; break;
          case BPF_LSH: A = (A << (x & 31)) >>> 0; break;
          case BPF_RSH: A = A >>> (x & 31); break;
          default: return 0;
        }
        break;
      }
      case BPF_JMP: {
        const op = c & 0xf0;
        if (op === BPF_JA) { pc += k; break; }
        const x = (c & BPF_X) ? X : k;
        const yes = op === BPF_JEQ ? A === x : op === BPF_JGT ? A > x : op === BPF_JGE ? A >= x : op === BPF_JSET ? (A & x) !== 0 : false;
        pc += yes ? jt[pc] : jf[pc];
        break;
      }
      case BPF_RET: return (c & 0x18) === BPF_A ? A : k;
      case BPF_MISC: if ((c & 0xf8) === BPF_TXA) A = X; else if ((c & 0xf8) === BPF_TAX) X = A; break;
    }
  }
  return 0;
}

/** sk_filter_trim_cap: how much of a packet of len bytes the socket takes (0: none), never
 *  less than cap (a TCP header stays whole). */
export function filterKeep(prog: BpfProgram | null, p: FilterPacket, cap = 0): number {
  if (prog === null) return p.pkt.length;
  const r = runSockFilter(prog, p);
  return r === 0 ? 0 : Math.min(p.pkt.length, Math.max(r, cap));
}
