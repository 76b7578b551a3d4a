// Socket filters' packet interpreter (ts/kernel/bpf/packet_filter.ts): loads of each size
// and mode, SKF_NET_OFF and SKF_AD_OFF, what ends a run with 0 (a load past the end, a
// division by zero), the trim rule of filterKeep; and a fixed-seed fuzzer: programs made of
// random instructions that checkClassic accepts run on random packets and end with a u32,
// never an exception (a hostile program is checked input, like any syscall argument).
import { describe, expect, it } from 'vitest';
import {
  BPF_ABS, BPF_ALU, BPF_B, BPF_H, BPF_IND, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_LDX, BPF_MOD, BPF_MSH, BPF_RET, BPF_W, BPF_X,
  BPF_A, BpfInvalid, checkClassic, filterKeep, runSockFilter, type BpfProgram,
} from '../../../ts/kernel/bpf';

function prog(ins: [number, number, number, number][]): BpfProgram {
  const n = ins.length;
  const p: BpfProgram = {
    length: n, code: new Uint16Array(ins.map((i) => i[0])), jt: new Uint8Array(ins.map((i) => i[1])),
    jf: new Uint8Array(ins.map((i) => i[2])), k: new Uint32Array(ins.map((i) => i[3] >>> 0)), op: new Uint8Array(n),
  };
  checkClassic(p);
  return p;
}
const pkt = (bytes: number[]): { pkt: Uint8Array; net: Uint8Array; ifindex: number } => {
  const net = new Uint8Array(20 + bytes.length);
  net[0] = 0x45;
  net[9] = 17;
  net.set(bytes, 20);
  return { pkt: net.subarray(20), net, ifindex: 1 };
};
const SKF_NET_OFF = -0x100000, SKF_AD_OFF = -0x1000;

describe('runSockFilter', () => {
  it('loads bytes, halves and words big-endian; IND adds X; MSH takes a header length', () => {
    const p = pkt([0x12, 0x34, 0x56, 0x78, 0x45]);
    expect(runSockFilter(prog([[BPF_LD | BPF_W | BPF_ABS, 0, 0, 0], [BPF_RET | BPF_A, 0, 0, 0]]), p)).toBe(0x12345678);
    expect(runSockFilter(prog([[BPF_LD | BPF_H | BPF_ABS, 0, 0, 2], [BPF_RET | BPF_A, 0, 0, 0]]), p)).toBe(0x5678);
    expect(runSockFilter(prog([[BPF_LDX | BPF_B | BPF_MSH, 0, 0, 4], [BPF_LD | BPF_B | BPF_IND, 0, 0, -19], [BPF_RET | BPF_A, 0, 0, 0]]), p))
      .toBe(0x34); // X = (0x45 & 15) * 4 = 20; 20 - 19 = 1
  });
  it('SKF_NET_OFF reads the IP header, SKF_AD_OFF the protocol; past the end and x % 0 give 0', () => {
    const p = pkt([1, 2]);
    expect(runSockFilter(prog([[BPF_LD | BPF_B | BPF_ABS, 0, 0, SKF_NET_OFF + 9], [BPF_RET | BPF_A, 0, 0, 0]]), p)).toBe(17);
    expect(runSockFilter(prog([[BPF_LD | BPF_H | BPF_ABS, 0, 0, SKF_AD_OFF], [BPF_RET | BPF_A, 0, 0, 0]]), p)).toBe(0x0800);
    expect(runSockFilter(prog([[BPF_LD | BPF_W | BPF_ABS, 0, 0, 0], [BPF_RET | BPF_K, 0, 0, 99]]), p)).toBe(0);
    expect(runSockFilter(prog([[BPF_ALU | BPF_MOD | BPF_X, 0, 0, 0], [BPF_RET | BPF_K, 0, 0, 99]]), p)).toBe(0);
  });
  it('filterKeep: 0 drops, more than the packet keeps it whole, never below the cap', () => {
    const p = pkt([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const ret = (k: number): BpfProgram => prog([[BPF_RET | BPF_K, 0, 0, k]]);
    expect(filterKeep(ret(0), p, 8)).toBe(0);
    expect(filterKeep(ret(0xffff), p, 8)).toBe(10);
    expect(filterKeep(ret(3), p, 8)).toBe(8);
    expect(filterKeep(ret(9), p, 8)).toBe(9);
    expect(filterKeep(null, p)).toBe(10);
  });
  it('fuzz (seed 0xb0f0): accepted random programs end with a u32 on random packets', () => {
    let seed = 0xb0f0;
    const rnd = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };
    const codes = [0x00, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x60, 0x80, 0x01, 0x61, 0x81, 0xb1, 0x02, 0x03, 0x04, 0x0c, 0x14,
      0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x44, 0x4c, 0x54, 0x5c, 0x64, 0x6c, 0x74, 0x7c, 0x84, 0x94, 0x9c, 0xa4, 0xac, 0x05, 0x15,
      0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d, 0x06, 0x16, 0x07, 0x87, BPF_JMP | BPF_JEQ | BPF_K, 0xff];
    const ks = [0, 1, 2, 3, 4, 8, 9, 15, 16, 31, 40, 0xffff, SKF_NET_OFF, SKF_NET_OFF + 9, SKF_AD_OFF, SKF_AD_OFF + 4, -1, 0x7fffffff];
    let accepted = 0;
    for (let i = 0; i < 20000; i++) {
      const n = rnd(12) + 1;
      const ins: [number, number, number, number][] = [];
      for (let j = 0; j < n; j++) ins.push([codes[rnd(codes.length)], rnd(4), rnd(4), rnd(3) === 0 ? rnd(0x10000) : ks[rnd(ks.length)]]);
      if (rnd(2) === 0) ins.push([BPF_RET | (rnd(2) ? BPF_A : BPF_K), 0, 0, rnd(100)]);
      let p: BpfProgram;
      try { p = prog(ins); } catch (e) { expect(e).toBeInstanceOf(BpfInvalid); continue; }
      accepted++;
      const bytes: number[] = [];
      for (let j = rnd(64); j > 0; j--) bytes.push(rnd(256));
      const r = runSockFilter(p, pkt(bytes));
      expect(Number.isInteger(r) && r >= 0 && r <= 0xffffffff).toBe(true);
    }
    expect(accepted).toBeGreaterThan(500);
  });
});
