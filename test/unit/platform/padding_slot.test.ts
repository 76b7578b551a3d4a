// findPaddingSlot (platform/syscall_patch.ts) reads application code to find where the patch
// of glibc's `xor %eax,%eax; syscall` may write its jump: glibc's own read, and a fixed-seed
// fuzz of pages of any bytes (with padding planted in some) against a plain reference.
import { describe, expect, it } from 'vitest';
import { findPaddingSlot } from '../../../ts/platform/syscall_patch';

const NOP = [0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0];

/** Every slot the rules allow, nearest first (the later one on a tie, as the search). */
function reference(page: Uint8Array, xorOff: number): number {
  const from = xorOff + 2;
  const ok: number[] = [];
  for (let end = 16; end <= page.length; end += 16) {
    const nop = end - NOP.length;
    if (!NOP.every((v, i) => page[nop + i] === v)) continue;
    let before = nop - 1, prefixes = 0;
    while (before >= 0 && prefixes < 3 && (page[before] === 0x66 || page[before] === 0x2e)) { before--; prefixes++; }
    if (before < 0 || page[before] !== 0xc3) continue;
    const slot = nop + 3;
    if (slot - from >= -128 && slot - from <= 127) ok.push(slot);
  }
  ok.sort((a, b) => Math.abs(a - from) - Math.abs(b - from) || b - a);
  return ok.length > 0 ? ok[0] : -1;
}

function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 2 ** 32;
  };
}

describe('the padding slot of a patched read', () => {
  it('finds glibc 2.36 read\'s own padding', () => {
    // __read: cmpb $0,X(%rip); je; xor %eax,%eax; syscall; cmp; ja; ret; cs nopw 0(%rax,%rax)
    const code = [0x80, 0x3d, 0x31, 0x33, 0x0e, 0x00, 0x00, 0x74, 0x17, 0x31, 0xc0, 0x0f, 0x05,
      0x48, 0x3d, 0x00, 0xf0, 0xff, 0xff, 0x77, 0x5b, 0xc3,
      0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00];
    const page = new Uint8Array(4096).fill(0xcc);
    const at = 0x2a0; // the function's page offset, as in libc.so.6
    page.set(code, at);
    expect(findPaddingSlot(page, at + 9)).toBe(at + 27);
  });

  it('finds nothing where the NOP is not after a ret, not aligned, or already used', () => {
    const page = new Uint8Array(4096).fill(0x90);
    const xor = 0x100;
    page.set([0x31, 0xc0, 0x0f, 0x05], xor);
    page.set([0x90, 0x66, 0x2e, ...NOP], 0x120 - 11); // after a nop, not a ret
    page.set([0xc3, 0x66, 0x2e, ...NOP], 0x131 - 11); // not ending 16-byte aligned
    page.set([0xc3, ...NOP.slice(0, 3), 0xe9, 1, 2, 3, 4], 0x140 - 9); // a slot in use
    page.set([0xc3, 0x66, 0x66, 0x66, 0x66, ...NOP], 0x150 - 13); // four prefixes: no padding
    expect(findPaddingSlot(page, xor)).toBe(-1);
    page.set([0xc3, 0x66, 0x66, 0x2e, ...NOP], 0x160 - 12);
    expect(findPaddingSlot(page, xor)).toBe(0x160 - 5);
    // Beyond a jmp rel8's reach (127 past the syscall): not taken.
    page.fill(0x90, 0x150, 0x170);
    page.set([0xc3, ...NOP], 0x190 - 9);
    expect(findPaddingSlot(page, xor)).toBe(-1);
  });

  it('agrees with the reference on pages of any bytes (seed 20261207)', () => {
    const next = rng(20261207);
    const biased = [0x00, 0x0f, 0x1f, 0x84, 0x66, 0x2e, 0xc3, 0x90, 0x31, 0xc0, 0x05];
    let found = 0;
    for (let round = 0; round < 3000; round++) {
      const page = new Uint8Array(4096);
      for (let i = 0; i < page.length; i++) {
        page[i] = next() < 0.7 ? biased[Math.floor(next() * biased.length)] : Math.floor(next() * 256);
      }
      for (let k = Math.floor(next() * 4); k > 0; k--) {
        const end = 16 * (1 + Math.floor(next() * 255));
        const prefixes = Math.floor(next() * 4);
        const pad = [next() < 0.8 ? 0xc3 : 0x90, ...Array.from({ length: prefixes }, () => (next() < 0.5 ? 0x66 : 0x2e)), ...NOP];
        if (end - pad.length >= 0) page.set(pad, end - pad.length);
      }
      const xor = Math.floor(next() * (4096 - 4));
      page.set([0x31, 0xc0, 0x0f, 0x05], xor);
      const got = findPaddingSlot(page, xor);
      expect(got).toBe(reference(page, xor));
      if (got >= 0) {
        found++;
        // Five zero bytes, clear of the xor and the syscall it patches, within a rel8.
        expect([...page.subarray(got, got + 5)]).toEqual([0, 0, 0, 0, 0]);
        expect(got + 5 <= xor || got >= xor + 4).toBe(true);
        expect(Math.abs(got - (xor + 2))).toBeLessThanOrEqual(128);
      }
    }
    expect(found).toBeGreaterThan(100); // the planted paddings are found often enough
  });
});
