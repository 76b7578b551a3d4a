// CI's KVM step split among guests (test/kvm/shards.mjs): every file runs exactly once, in one
// guest, and the guests' expected times stay within one file of each other. Pure: no /dev/kvm.
import { describe, expect, it } from 'vitest';
import { DEFAULT_SECS, FILE_SECS } from './file_times.mjs';
import { estimate, shardFiles } from './shards.mjs';
import { GUEST_FILES } from './guest_suite.mjs';

interface Shard { files: string[]; secs: number }

/** A fixed-seed generator (mulberry32), so that a failing case can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function checkSplit(files: string[], n: number, table: Record<string, number>): Shard[] {
  const shards: Shard[] = shardFiles(files, n, table);
  const all = shards.flatMap((s) => s.files);
  expect([...all].sort()).toEqual([...files].sort());
  expect(shards.length).toBeLessThanOrEqual(n);
  for (const s of shards) {
    expect(s.files.length).toBeGreaterThan(0);
    expect(s.secs).toBe(s.files.reduce((t, f) => t + estimate(f, table), 0));
    // Each shard keeps the given order.
    expect(s.files).toEqual(files.filter((f) => s.files.includes(f)));
  }
  if (shards.length === n && n > 1) {
    const secs = shards.map((s) => s.secs);
    const biggest = Math.max(...files.map((f) => estimate(f, table)));
    expect(Math.max(...secs) - Math.min(...secs)).toBeLessThanOrEqual(biggest);
  }
  return shards;
}

describe('KVM CI shards', () => {
  it('CI\'s own set over two guests: each file once, within one file of each other', () => {
    const shards = checkSplit(GUEST_FILES, 2, FILE_SECS);
    expect(shards).toHaveLength(2);
    const total = GUEST_FILES.reduce((t: number, f: string) => t + estimate(f), 0);
    // Far from everything in one guest: the point of the split.
    for (const s of shards) expect(s.secs).toBeLessThan(total * 0.6);
  });

  it('one shard is the set as given', () => {
    expect(shardFiles(['b', 'a', 'c'], 1, { a: 5 })).toEqual([{ files: ['b', 'a', 'c'], secs: 5 + 2 * DEFAULT_SECS }]);
  });

  it('files without a time count as the default; more shards than files leaves none empty', () => {
    expect(estimate('nowhere', {})).toBe(DEFAULT_SECS);
    expect(estimate('x', { x: -1 })).toBe(DEFAULT_SECS);
    const shards = checkSplit(['x', 'y'], 4, {});
    expect(shards).toHaveLength(2);
  });

  it('refuses a shard count that is not a positive integer', () => {
    for (const n of [0, -1, 1.5, Number.NaN]) expect(() => shardFiles(['a'], n)).toThrow(/positive integer/);
  });

  it('random sets (seed 11): a partition, balanced within the largest file, the same every time', () => {
    const next = rng(11);
    for (let round = 0; round < 200; round++) {
      const count = 1 + Math.floor(next() * 60);
      const files = Array.from({ length: count }, (_, i) => `f${i}`);
      const table: Record<string, number> = {};
      for (const f of files) if (next() < 0.9) table[f] = Math.floor(next() * 120);
      const n = 1 + Math.floor(next() * 4);
      const shards = checkSplit(files, n, table);
      expect(shardFiles(files, n, table)).toEqual(shards);
    }
  });
});
