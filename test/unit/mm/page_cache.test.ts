// The page cache of private file mappings (mm/page_cache.ts): pages read once and shared by
// every address space, copied on the first write, a new file version seen in pages not
// faulted yet, the bound (LRU) and the drop when memory is short; and a fixed-seed fuzz of
// map/protect/unmap/dontneed/write/fork sequences in several address spaces against a model.
import { describe, expect, it } from 'vitest';
import {
  MADV_DONTNEED, MAP_FIXED, MAP_PRIVATE, PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE,
} from '../../../ts/abi/linux/mm';
import { MemoryManager, type MappingBacking } from '../../../ts/mm/memory_manager';
import { PageCache, pageCacheOf, withPageCache } from '../../../ts/mm/page_cache';
import { FakeAddressSpace, FakeMemoryFile, MAX_ADDR, MIN_ADDR, PAGE } from './fake_native';
import { BytesBacking, pattern } from './helpers';

const RW = PROT_READ | PROT_WRITE;

/** Byte arrays equal (Buffer.equals: toEqual compares element by element, far too slowly). */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

/** A file whose bytes (and so its version) the test may change, cached like a lower file. */
class VersionedFile {
  version = 1;
  inner: BytesBacking;
  constructor(public bytes: Uint8Array, readonly name = '/lib/test.so') { this.inner = new BytesBacking(bytes, name); }
  backing(copyWhenWritable = false): MappingBacking {
    return { ...withPageCache(this.inner, () => ({ key: this.name, version: String(this.version) })), copyWhenWritable };
  }
  change(bytes: Uint8Array): void {
    this.bytes = bytes;
    this.inner = new BytesBacking(bytes, this.name);
    this.version++;
  }
}

function space(mf: FakeMemoryFile): MemoryManager {
  return new MemoryManager(mf, new FakeAddressSpace(mf, MIN_ADDR, MAX_ADDR), MIN_ADDR, MAX_ADDR);
}

describe('page cache of private file mappings', () => {
  it('reads a page once for every address space and copies it on the first write', () => {
    const mf = new FakeMemoryFile();
    const file = new VersionedFile(pattern(4 * PAGE));
    const a = space(mf);
    const b = space(mf);
    const pa = a.mmap(0, 4 * PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, file.backing(), 0);
    const pb = b.mmap(0, 4 * PAGE, RW, MAP_PRIVATE, file.backing(), 0);
    expect(same(a.copyIn(pa, 4 * PAGE), file.bytes)).toBe(true);
    const fills = file.inner.fills;
    const bytes = mf.allocatedBytes();
    expect(same(b.copyIn(pb, 4 * PAGE), file.bytes)).toBe(true);
    expect(file.inner.fills).toBe(fills); // from the cache
    expect(mf.allocatedBytes()).toBe(bytes); // the same pages
    b.copyOut(pb + PAGE + 5, new Uint8Array([0xee]));
    expect(mf.allocatedBytes()).toBe(bytes + PAGE); // one copy
    expect(a.copyIn(pa + PAGE + 5, 1)[0]).toBe(file.bytes[PAGE + 5]);
    // A third space sees the file, not b's copy.
    const c = space(mf);
    const pc = c.mmap(0, 4 * PAGE, PROT_READ, MAP_PRIVATE, file.backing(), 0);
    expect(same(c.copyIn(pc, 4 * PAGE), file.bytes)).toBe(true);
    // mprotect cannot open the cache's pages for writing: a write after it still copies.
    a.mprotect(pa, 4 * PAGE, RW);
    a.copyOut(pa, new Uint8Array([1, 2, 3]));
    expect(same(c.copyIn(pc, 3), file.bytes.subarray(0, 3))).toBe(true);
    for (const m of [a, b, c]) m.release();
    expect(mf.allocatedBytes()).toBe(pageCacheOf(mf).cachedBytes);
    pageCacheOf(mf).shrink();
    expect(mf.allocatedBytes()).toBe(0);
  });

  it('takes the caller\'s references one run of contiguous pages at a time', () => {
    const mf = new FakeMemoryFile();
    const cache = new PageCache(mf);
    const f = new VersionedFile(pattern(16 * PAGE, 3));
    const fill = f.inner.fill.bind(f.inner);
    // Pages 4..7 first (one run), then 0..15: runs 0..3, 4..7, 8..15.
    for (const p of cache.pages('k', '1', 4 * PAGE, 4 * PAGE, fill)) mf.decRef(p, PAGE);
    let calls = 0;
    const incRef = mf.incRef.bind(mf);
    mf.incRef = (offset: number, length: number): void => { calls++; incRef(offset, length); };
    const pages = cache.pages('k', '1', 0, 16 * PAGE, fill);
    expect(calls).toBe(3);
    for (const p of pages) expect(mf.refCount(p)).toBe(2); // the cache's and the caller's
    for (const p of pages) mf.decRef(p, PAGE);
    cache.shrink();
    expect(mf.allocatedBytes()).toBe(0);
  });

  it('a fault maps the cache\'s pages and drops their references a run at a time', () => {
    const mf = new FakeMemoryFile();
    const file = new VersionedFile(pattern(64 * PAGE, 5));
    const a = space(mf);
    const at = a.mmap(0, 64 * PAGE, PROT_READ, MAP_PRIVATE, file.backing(), 0);
    let calls = 0;
    const decRef = mf.decRef.bind(mf);
    mf.decRef = (offset: number, length: number): void => { calls++; decRef(offset, length); };
    // One fault fills its window (many pages) from one run of the cache's pages: one
    // crossing for their references, not one a page (each costs about a microsecond in the
    // addon).
    expect(same(a.copyIn(at, PAGE), file.bytes.subarray(0, PAGE))).toBe(true);
    expect(pageCacheOf(mf).cachedBytes).toBeGreaterThan(8 * PAGE);
    expect(calls).toBe(1);
    // Every page is the cache's and the mapping's: two references, none leaked.
    a.munmap(at, 64 * PAGE);
    calls = 0;
    pageCacheOf(mf).shrink();
    expect(calls).toBe(1);
    expect(mf.allocatedBytes()).toBe(0);
  });

  it('a changed file is seen in pages not faulted yet; faulted ones stay as they were', () => {
    const mf = new FakeMemoryFile();
    const file = new VersionedFile(pattern(2 * PAGE, 1));
    const a = space(mf);
    const pa = a.mmap(0, 2 * PAGE, PROT_READ, MAP_PRIVATE, file.backing(), 0);
    a.populateRange(pa, pa + PAGE);
    const old = file.bytes;
    file.change(pattern(2 * PAGE, 9));
    // The backing checks the version again once VERSION_TTL_MS has passed: a new mapping
    // (a new backing) asks at once.
    const b = space(mf);
    const pb = b.mmap(0, 2 * PAGE, PROT_READ, MAP_PRIVATE, file.backing(), 0);
    expect(same(b.copyIn(pb, 2 * PAGE), file.bytes)).toBe(true);
    expect(same(a.copyIn(pa, PAGE), old.subarray(0, PAGE))).toBe(true);
  });

  it('writable mappings of a file that cannot change copy at once (copyWhenWritable)', () => {
    const mf = new FakeMemoryFile();
    const file = new VersionedFile(pattern(2 * PAGE));
    const a = space(mf);
    const pa = a.mmap(0, 2 * PAGE, RW, MAP_PRIVATE, file.backing(true), 0);
    a.copyOut(pa, new Uint8Array([7]));
    expect(pageCacheOf(mf).cachedBytes).toBe(0);
    expect(same(a.copyIn(pa + PAGE, PAGE), file.bytes.subarray(PAGE))).toBe(true);
  });

  it('keeps to its bound, least recently used file first, and drops all when memory is short', () => {
    const mf = new FakeMemoryFile();
    const cache = new PageCache(mf, 4 * PAGE);
    const fill = (m: FakeMemoryFile, _f: number, off: number, len: number): void => m.write(off, new Uint8Array(len).fill(1));
    const take = (key: string, pages: number): void => {
      for (const off of cache.pages(key, '1', 0, pages * PAGE, fill)) mf.decRef(off, PAGE);
    };
    take('a', 2);
    take('b', 2);
    expect(cache.cachedBytes).toBe(4 * PAGE);
    take('a', 1); // a is now the most recent
    take('c', 2); // b goes
    expect(cache.cachedBytes).toBe(4 * PAGE);
    const misses = cache.misses;
    take('a', 2);
    expect(cache.misses).toBe(misses);
    take('b', 1);
    expect(cache.misses).toBe(misses + 1);
    cache.shrink();
    expect(cache.cachedBytes).toBe(0);
    expect(mf.allocatedBytes()).toBe(0);
  });

  it('lets go of its pages when the memory file refuses an allocation', () => {
    class Limited extends FakeMemoryFile {
      limit = Infinity;
      override allocate(pages: number): number {
        if (this.allocatedBytes() + pages * PAGE > this.limit) throw new Error('ENOMEM: limit');
        return super.allocate(pages);
      }
    }
    const mf = new Limited();
    const file = new VersionedFile(pattern(8 * PAGE));
    const a = space(mf);
    const pa = a.mmap(0, 8 * PAGE, PROT_READ, MAP_PRIVATE, file.backing(), 0);
    a.populateRange(pa, pa + 8 * PAGE);
    a.release();
    expect(pageCacheOf(mf).cachedBytes).toBe(8 * PAGE);
    mf.limit = 8 * PAGE;
    const b = space(mf);
    const anon = b.allocate(6 * PAGE); // fits only once the cache is gone
    expect(pageCacheOf(mf).cachedBytes).toBe(0);
    mf.decRef(anon, 6 * PAGE);
  });
});

/** xorshift32 from a fixed seed: the same sequence every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

describe('page cache fuzz', () => {
  it('map/protect/unmap/dontneed/write/fork sequences match a model (seed 20261206)', () => {
    const FILE_PAGES = 8;
    const WINDOW = 16; // pages of the address range the fuzz plays in
    const mf = new FakeMemoryFile();
    const file = new VersionedFile(pattern(FILE_PAGES * PAGE, 3));
    const fileCopy = file.bytes.slice();
    const rand = rng(20261206);
    // Model, per space and page: the byte at offset 0..PAGE of what the page shows, or
    // undefined if unmapped; prot per page.
    interface Model { mm: MemoryManager; pages: (Uint8Array | undefined)[]; prot: number[] }
    const base = MIN_ADDR + 0x100000;
    const spaces: Model[] = [{ mm: space(mf), pages: new Array(WINDOW).fill(undefined), prot: new Array(WINDOW).fill(0) }];
    const fresh = (i: number): Uint8Array => file.bytes.slice(i * PAGE, (i + 1) * PAGE);
    for (let step = 0; step < 3000; step++) {
      const s = spaces[rand() % spaces.length];
      const at = rand() % WINDOW;
      const n = 1 + (rand() % Math.min(4, WINDOW - at));
      const op = rand() % 8;
      if (op === 0) {
        const off = rand() % (FILE_PAGES - n + 1);
        const prot = [PROT_READ, RW, PROT_READ | PROT_EXEC][rand() % 3];
        s.mm.mmap(base + at * PAGE, n * PAGE, prot, MAP_PRIVATE | MAP_FIXED, file.backing(rand() % 2 === 0), off * PAGE);
        for (let i = 0; i < n; i++) { s.pages[at + i] = fresh(off + i); s.prot[at + i] = prot; }
      } else if (op === 1) {
        s.mm.munmap(base + at * PAGE, n * PAGE);
        for (let i = 0; i < n; i++) { s.pages[at + i] = undefined; s.prot[at + i] = 0; }
      } else if (op === 2) {
        let covered = true;
        for (let i = 0; i < n; i++) if (s.pages[at + i] === undefined) covered = false;
        if (!covered) continue;
        const prot = [PROT_READ, RW, PROT_NONE, RW | PROT_EXEC][rand() % 4];
        s.mm.mprotect(base + at * PAGE, n * PAGE, prot);
        for (let i = 0; i < n; i++) s.prot[at + i] = prot;
      } else if (op === 3) {
        let covered = true;
        for (let i = 0; i < n; i++) if (s.pages[at + i] === undefined) covered = false;
        if (!covered) continue;
        s.mm.madvise(base + at * PAGE, n * PAGE, MADV_DONTNEED);
        // Back to the file's page: the model must know which file page that is.
        for (let i = 0; i < n; i++) {
          const v = s.mm.vmas.find(base + (at + i) * PAGE);
          if (v === undefined || v.backing === null) throw new Error('model: no file vma');
          s.pages[at + i] = fresh(v.offsetAt(base + (at + i) * PAGE) / PAGE);
        }
      } else if (op === 4 || op === 5) {
        const page = s.pages[at];
        if (page === undefined || (s.prot[at] & PROT_WRITE) === 0) continue;
        const pos = rand() % PAGE;
        const val = rand() & 0xff;
        s.mm.copyOut(base + at * PAGE + pos, new Uint8Array([val]));
        page[pos] = val;
      } else if (op === 6 && spaces.length < 4) {
        const child = s.mm.fork(new FakeAddressSpace(mf, MIN_ADDR, MAX_ADDR));
        spaces.push({ mm: child, pages: s.pages.map((p) => p?.slice()), prot: s.prot.slice() });
      } else if (op === 7 && spaces.length > 1 && rand() % 4 === 0) {
        const i = spaces.indexOf(s);
        s.mm.release();
        spaces.splice(i, 1);
      }
      // Every mapped, readable page of every space shows what the model says.
      for (const m of spaces) {
        for (let i = 0; i < WINDOW; i++) {
          const want = m.pages[i];
          if (want === undefined || m.prot[i] === PROT_NONE) continue;
          const got = m.mm.copyIn(base + i * PAGE, PAGE);
          if (!Buffer.from(got).equals(Buffer.from(want))) {
            throw new Error(`step ${step}: space ${spaces.indexOf(m)} page ${i} differs from the model`);
          }
        }
      }
      expect(same(file.bytes, fileCopy)).toBe(true);
    }
    for (const m of spaces) m.mm.release();
    const cache = pageCacheOf(mf);
    expect(cache.hits).toBeGreaterThan(0);
    // The cache still holds the file as it is.
    const check = space(mf);
    const p = check.mmap(0, FILE_PAGES * PAGE, PROT_READ, MAP_PRIVATE, file.backing(), 0);
    expect(same(check.copyIn(p, FILE_PAGES * PAGE), fileCopy)).toBe(true);
    check.release();
    cache.shrink();
    expect(mf.allocatedBytes()).toBe(0);
  });
});
