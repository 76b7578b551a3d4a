// PageCache: the pages of read-only files (the lower layer's libraries and programs, the
// first program's ELF), read once into the memory file and shared by every MAP_PRIVATE
// mapping of them (Linux's page cache, for files the sandbox cannot write). A private mapping
// maps these pages without write permission and copies a page on its first write fault
// (Pmas.breakCow), as fork's copy-on-write does, so nothing written through a mapping ever
// reaches the cache or another process.
//
// Identity: a file is cached under its device and inode; its version (mtime, ctime, size) is
// checked again when ATTR_TTL_MS has passed since the last check (the gofer's revalidation
// rule), and a changed file starts a fresh entry, so pages not faulted in yet show the new
// contents, as Linux shows a file changed under a private mapping. Pages already mapped stay
// what they were (each mapping holds its own reference).
//
// Bound: at most maxBytes of pages (a quarter of --memory if smaller), least recently used
// files dropped first; everything is dropped when the memory file refuses an allocation
// (allocateShrinking). Dropped pages live on while some mapping still maps them.
//
// Must not touch: VMAs and address spaces (Pmas maps what it gets here), file semantics.

import type { NativeMemoryFile } from '../native/addon';
import { errnoOfNative } from '../native/addon';
import type { MappingBacking } from './backing';
import { PAGE_SIZE } from './layout';
import { decRefRuns, incRefRuns } from './page_runs';

/** Default bound of one memory file's page cache. */
export const PAGE_CACHE_MAX = 128 << 20;
/** How long a file's version is trusted (the gofer's ATTR_TTL_MS). */
export const VERSION_TTL_MS = 100;

/** One cached file: page index -> memory-file offset; the cache holds one reference each. */
class CachedFile {
  readonly pages = new Map<number, number>();
  constructor(readonly key: string, readonly version: string) {}
}

export class PageCache {
  /** Insertion order is recency: a use moves the file to the end. */
  private readonly files = new Map<string, CachedFile>();
  /** Every memory-file offset the cache holds (holds()). */
  private readonly held = new Set<number>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly mf: NativeMemoryFile, readonly maxBytes = PAGE_CACHE_MAX) {}

  /** Bytes the cache holds (for /proc/meminfo's Cached and tests). */
  get cachedBytes(): number { return this.bytes; }

  private bound(): number {
    const limit = this.mf.limitBytes();
    return Number.isFinite(limit) ? Math.min(this.maxBytes, Math.floor(limit / 4)) : this.maxBytes;
  }

  private entry(key: string, version: string): CachedFile {
    let f = this.files.get(key);
    if (f !== undefined) {
      this.files.delete(key);
      if (f.version !== version) {
        this.drop(f);
        f = undefined;
      }
    }
    f ??= new CachedFile(key, version);
    this.files.set(key, f);
    return f;
  }

  private drop(f: CachedFile): void {
    const offs = [...f.pages.values()].sort((a, b) => a - b);
    for (const off of offs) this.held.delete(off);
    decRefRuns(this.mf, offs);
    this.bytes -= f.pages.size * PAGE_SIZE;
    f.pages.clear();
    if (this.files.get(f.key) === f) this.files.delete(f.key);
  }

  /** Drop least recently used files until `room` more bytes fit the bound (keep: in use now). */
  private makeRoom(room: number, keep: CachedFile): void {
    const bound = this.bound();
    for (const f of this.files.values()) {
      if (this.bytes + room <= bound) return;
      if (f !== keep) this.drop(f);
    }
  }

  /** Whether the page at memory-file offset off is one of the cache's (shared by every
   *  private mapping of its file, as opposed to one shared only since a fork). */
  holds(off: number): boolean { return this.held.has(off); }

  /** Let every page go (memory is short). */
  shrink(): void {
    for (const f of [...this.files.values()]) this.drop(f);
  }

  /**
   * The memory-file pages of file `key` at `version` for [fileOffset, +length) (page aligned),
   * filled by `fill` (as MappingBacking.fill: zeroed pages, short at EOF) where missing; one
   * reference taken for the caller on each.
   */
  pages(key: string, version: string, fileOffset: number, length: number,
    fill: (mf: NativeMemoryFile, fileOffset: number, mfOffset: number, length: number) => void): number[] {
    const f = this.entry(key, version);
    const first = fileOffset / PAGE_SIZE;
    const n = length / PAGE_SIZE;
    const out = new Array<number>(n);
    let i = 0;
    while (i < n) {
      const have = f.pages.get(first + i);
      if (have !== undefined) {
        out[i++] = have;
        this.hits++;
        continue;
      }
      // A run of missing pages: one allocation, one fill.
      let j = i + 1;
      while (j < n && !f.pages.has(first + j)) j++;
      const runBytes = (j - i) * PAGE_SIZE;
      this.makeRoom(runBytes, f);
      const base = allocateShrinking(this.mf, j - i);
      try {
        fill(this.mf, fileOffset + i * PAGE_SIZE, base, runBytes);
      } catch (e) {
        this.mf.decRef(base, runBytes);
        throw e;
      }
      for (let k = i; k < j; k++) {
        const off = base + (k - i) * PAGE_SIZE;
        f.pages.set(first + k, off);
        this.held.add(off);
        out[k] = off;
      }
      this.bytes += runBytes;
      this.misses += j - i;
      i = j;
    }
    // One call per run of contiguous pages (a file read in one run sits in one): exec maps
    // whole segments of a hundred pages and more from here.
    incRefRuns(this.mf, out);
    return out;
  }
}

const caches = new WeakMap<NativeMemoryFile, PageCache>();

/** The page cache of memory file mf (one per sandbox). */
export function pageCacheOf(mf: NativeMemoryFile): PageCache {
  let c = caches.get(mf);
  if (c === undefined) {
    c = new PageCache(mf);
    caches.set(mf, c);
  }
  return c;
}

/** mf.allocate, dropping the page cache and trying again once if the memory file refuses. */
export function allocateShrinking(mf: NativeMemoryFile, pages: number, fresh = false): number {
  const alloc = (): number => (fresh ? mf.allocateFresh(pages) : mf.allocate(pages));
  try {
    return alloc();
  } catch (e) {
    const cache = caches.get(mf);
    if (errnoOfNative(e) !== 'ENOMEM' || cache === undefined || cache.cachedBytes === 0) throw e;
    cache.shrink();
    return alloc();
  }
}

/** What identifies a file's contents: `key` names the file (device, inode), `version` its
 *  state (mtime, ctime, size). */
export interface FileVersion { key: string; version: string }

/**
 * inner (a file that only the host may change: no shared pages, no seals), with its private
 * pages served from the page cache: `identify` says which file and
 * which version it is now (asked at most every VERSION_TTL_MS); null: do not cache it.
 */
export function withPageCache(inner: MappingBacking, identify: () => FileVersion | null): MappingBacking {
  let id: FileVersion | null = null;
  let checkedAt = -Infinity;
  const fill = inner.fill.bind(inner);
  return {
    name: inner.name,
    fill,
    size: inner.size?.bind(inner),
    hold: inner.hold?.bind(inner),
    drop: inner.drop?.bind(inner),
    rmap: inner.rmap,
    copyWhenWritable: inner.copyWhenWritable,
    privatePages(mf: NativeMemoryFile, fileOffset: number, length: number): number[] | null {
      const now = performance.now();
      if (now - checkedAt >= VERSION_TTL_MS) {
        // A file whose attributes cannot be had now is copied page by page, as before.
        try { id = identify(); } catch { id = null; }
        checkedAt = now;
      }
      if (id === null) return null;
      return pageCacheOf(mf).pages(id.key, id.version, fileOffset, length, fill);
    },
  };
}
