// PipeRing against a page-list model of Linux's pipe ring (fs/pipe.c): random writes, merges,
// reads, peeks and resizes from a fixed seed, with sources and sinks that come up short (a
// fault part-way through application memory). The ring copies runs of adjacent pages at once;
// the model goes a page at a time, as pipe_read and pipe_write do; the two must agree on
// every count, every byte delivered, and what stays unread.
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE, PipeRing } from '../../../ts/kernel/pipe_ring';
import type { PipeSink, PipeSource } from '../../../ts/kernel/pipe';
import { seededRandom } from '../../helpers/rng';

/** Bytes numbered from `first` (mod 251), faulting after `faultAfter` of them. */
function source(first: number, len: number, faultAfter: number): PipeSource & { taken: number } {
  let at = 0;
  return {
    taken: 0,
    get remaining() { return len - at; },
    fill(dst: Uint8Array): number {
      const n = Math.max(0, Math.min(dst.length, len - at, faultAfter - at));
      for (let i = 0; i < n; i++) dst[i] = (first + at + i) % 251;
      at += Math.min(dst.length, len - at); // the cursor moves past a fault, as a user one does
      this.taken += n;
      return n;
    },
  };
}

function sink(faultAfter: number): PipeSink & { got: number[] } {
  const got: number[] = [];
  return {
    got,
    put(src: Uint8Array): number {
      const n = Math.max(0, Math.min(src.length, faultAfter - got.length));
      for (let i = 0; i < n; i++) got.push(src[i]);
      return n;
    },
  };
}

/** Linux's ring, a page at a time: each page its unread bytes. */
class Model {
  pages: number[][] = [];
  constructor(public slots: number) {}
  get bytes(): number { return this.pages.reduce((a, p) => a + p.length, 0); }
  /** Merge target: the last page's used length (start + unread), as the ring tracks it. */
  ends: number[] = [];

  push(first: number, len: number, faultAfter: number): { n: number; faulted: boolean } {
    let n = 0;
    while (this.pages.length < this.slots && n < len) {
      const take = Math.min(PAGE_SIZE, len - n);
      if (n + take > faultAfter) return { n, faulted: true };
      const page: number[] = [];
      for (let i = 0; i < take; i++) page.push((first + n + i) % 251);
      this.pages.push(page);
      this.ends.push(take);
      n += take;
    }
    return { n, faulted: false };
  }

  merge(first: number, chars: number, faultAfter: number): number {
    if (this.pages.length === 0 || chars === 0) return 0;
    const last = this.pages.length - 1;
    if (this.ends[last] + chars > PAGE_SIZE) return 0;
    if (faultAfter < chars) return -1;
    for (let i = 0; i < chars; i++) this.pages[last].push((first + i) % 251);
    this.ends[last] += chars;
    return chars;
  }

  read(want: number, faultAfter: number): { n: number; faulted: boolean; bytes: number[] } {
    const bytes: number[] = [];
    let left = faultAfter;
    while (bytes.length < want && this.pages.length > 0) {
      const p = this.pages[0];
      const take = Math.min(p.length, want - bytes.length);
      if (left < take) return { n: bytes.length, faulted: true, bytes };
      left -= take;
      for (const b of p.splice(0, take)) bytes.push(b);
      if (p.length === 0) { this.pages.shift(); this.ends.shift(); }
    }
    return { n: bytes.length, faulted: false, bytes };
  }

  peek(max: number): number[] { return this.pages.flat().slice(0, max); }
}

describe('PipeRing', () => {
  for (const seed of [1, 7, 42, 1234, 99991]) {
    it(`agrees with the page-at-a-time model (seed ${seed})`, () => {
      const r = seededRandom(seed);
      const pick = (n: number): number => Math.floor(r() * n);
      const sizes = [1, 2, 4, 8, 16, 32, 64];
      let slots = 16;
      const ring = new PipeRing(slots);
      const model = new Model(slots);
      let next = 0;
      for (let step = 0; step < 1500; step++) {
        const op = pick(10);
        // Lengths around page and chunk boundaries, and short faults.
        const len = [1, 100, PAGE_SIZE - 1, PAGE_SIZE, PAGE_SIZE + 1, 3 * PAGE_SIZE + 7, 16 * PAGE_SIZE, 40 * PAGE_SIZE + 3][pick(8)];
        const fault = r() < 0.2 ? pick(len + 1) : Infinity;
        if (op < 4) {
          const chars = len & (PAGE_SIZE - 1);
          const want = model.merge(next, chars, fault);
          const src = source(next, chars, fault);
          expect(ring.merge(src, chars)).toBe(want);
          if (want > 0) next += want;
          const m = model.push(next, len - Math.max(0, want), fault);
          const got = ring.push(source(next, len - Math.max(0, want), fault));
          expect([got, ring.faulted]).toEqual([m.n, m.faulted && m.n < len - Math.max(0, want)]);
          next += len; // numbering only needs to be distinct between writes
        } else if (op < 8) {
          const m = model.read(len, fault);
          const s = sink(fault);
          const n = ring.readTo(s, len);
          expect([n, ring.faulted]).toEqual([m.n, m.faulted]);
          expect(Buffer.from(s.got.slice(0, n)).equals(Buffer.from(m.bytes))).toBe(true);
        } else if (op < 9) {
          const dst = new Uint8Array(pick(20 * PAGE_SIZE));
          const n = ring.peek(dst);
          expect(Buffer.from(dst.subarray(0, n)).equals(Buffer.from(model.peek(dst.length)))).toBe(true);
        } else {
          const want = sizes[pick(sizes.length)];
          if (want >= model.pages.length) {
            ring.resize(want);
            model.slots = want;
            slots = want;
          }
        }
        expect(ring.available).toBe(model.bytes);
        expect(ring.inUse).toBe(model.pages.length);
        expect(ring.full).toBe(model.pages.length >= slots);
      }
    });
  }
});
