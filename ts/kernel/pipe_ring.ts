// The pipe's ring of pages (Linux struct pipe_inode_info's bufs[], head and tail): slot i holds
// bytes [start, end) of its page unread. Owns the bytes and the slot accounting only; waiting,
// waking and the syscall rules are pipe.ts's.
// The pages of consecutive slots lie side by side in chunks of CHUNK_SLOTS pages, allocated on
// first use and kept (a pipe that streams would otherwise allocate for the GC on every write),
// so that a write or read of many pages is one copy per chunk — one crossing into the memory
// file for a 64 KiB read(2) or write(2) — instead of one per page.

import type { PipeSink, PipeSource } from './pipe';

export const PAGE_SIZE = 4096;
/** Pages per chunk: a default pipe's whole ring. */
const CHUNK_SLOTS = 16;
const CHUNK_BYTES = CHUNK_SLOTS * PAGE_SIZE;

export class PipeRing {
  /** Slot (position mod slots) of the first unread page, and how many are in use. */
  private tail = 0;
  private used = 0;
  /** Unread bytes in all slots. */
  private bytes = 0;
  private starts: Int32Array;
  private ends: Int32Array;
  private chunks: (Uint8Array | undefined)[] = [];
  /** Set by readTo/push when a copy into or out of the caller's memory came up short. */
  faulted = false;

  constructor(private slots: number) {
    this.starts = new Int32Array(slots);
    this.ends = new Int32Array(slots);
  }

  get capacity(): number { return this.slots; }
  get inUse(): number { return this.used; }
  get full(): boolean { return this.used >= this.slots; }
  get available(): number { return this.bytes; }
  /** Bytes whole free pages can take. */
  get room(): number { return Math.max(0, this.slots - this.used) * PAGE_SIZE; }

  private slotAt(i: number): number { return (this.tail + i) % this.slots; }

  /** The page of slot s, as a view into its chunk. */
  private page(s: number): { chunk: Uint8Array; at: number } {
    const c = Math.floor(s / CHUNK_SLOTS);
    let chunk = this.chunks[c];
    if (chunk === undefined) {
      const pages = Math.min(CHUNK_SLOTS, this.slots - c * CHUNK_SLOTS);
      chunk = new Uint8Array(pages === CHUNK_SLOTS ? CHUNK_BYTES : pages * PAGE_SIZE);
      this.chunks[c] = chunk;
    }
    return { chunk, at: (s % CHUNK_SLOTS) * PAGE_SIZE };
  }

  /** pipe_resize_ring: the caller checked that the slots in use fit. Unread pages move to the
   *  front of a new ring. */
  resize(slots: number): void {
    if (slots === this.slots) return;
    const old = { tail: this.tail, used: this.used, starts: this.starts, ends: this.ends, chunks: this.chunks, slots: this.slots };
    this.slots = slots;
    this.starts = new Int32Array(slots);
    this.ends = new Int32Array(slots);
    this.chunks = [];
    this.tail = 0;
    for (let i = 0; i < old.used; i++) {
      const s = (old.tail + i) % old.slots;
      const c = old.chunks[Math.floor(s / CHUNK_SLOTS)] as Uint8Array;
      const from = (s % CHUNK_SLOTS) * PAGE_SIZE;
      const { chunk, at } = this.page(i);
      chunk.set(c.subarray(from + old.starts[s], from + old.ends[s]), at + old.starts[s]);
      this.starts[i] = old.starts[s];
      this.ends[i] = old.ends[s];
    }
  }

  /** Copy up to dst.length unread bytes without consuming them (tee). */
  peek(dst: Uint8Array): number {
    let n = 0;
    for (let i = 0; i < this.used && n < dst.length; i++) {
      const s = this.slotAt(i);
      const { chunk, at } = this.page(s);
      const take = Math.min(this.ends[s] - this.starts[s], dst.length - n);
      dst.set(chunk.subarray(at + this.starts[s], at + this.starts[s] + take), n);
      n += take;
    }
    return n;
  }

  /** Consume up to `want` unread bytes into sink, a run of adjacent pages per copy. A page the
   *  sink did not take whole stays unread and ends the read with `faulted` set (Linux's
   *  pipe_read after a short copy_page_to_iter). Returns the bytes consumed. */
  readTo(sink: PipeSink, want: number): number {
    this.faulted = false;
    let n = 0;
    while (n < want && this.used > 0) {
      // The run: from the first unread slot, while each page is read to its end and the next
      // one is in the same chunk (only the first unread page can have been read in part).
      const first = this.tail;
      const { chunk, at } = this.page(first);
      let len = 0;
      let count = 0;
      for (let s = first; count < this.used; s++, count++) {
        if (count > 0 && (s % CHUNK_SLOTS === 0 || s >= this.slots)) break;
        len += Math.min(this.ends[s] - this.starts[s], want - n - len);
        if (n + len === want || this.ends[s] !== PAGE_SIZE) { count++; break; }
      }
      const from = at + this.starts[first];
      const got = sink.put(chunk.subarray(from, from + len));
      // Whole pages (or the part of the last one asked for) count; a page taken in part does not.
      let left = got;
      for (let i = 0; i < count; i++) {
        const s = this.tail;
        const take = Math.min(this.ends[s] - this.starts[s], want - n);
        if (left < take) { this.faulted = true; return n; }
        left -= take;
        n += take;
        this.bytes -= take;
        this.starts[s] += take;
        if (this.starts[s] === this.ends[s]) {
          this.tail = (this.tail + 1) % this.slots;
          this.used--;
        }
      }
    }
    return n;
  }

  /** pipe_write's merge: `chars` bytes of src into the last page, if they fit behind its data.
   *  Returns the bytes taken (0 if they do not fit); a short copy is -1 with nothing taken. */
  merge(src: PipeSource, chars: number): number {
    if (this.used === 0 || chars === 0) return 0;
    const s = this.slotAt(this.used - 1);
    if (this.ends[s] + chars > PAGE_SIZE) return 0;
    const { chunk, at } = this.page(s);
    const from = at + this.ends[s];
    if (src.fill(chunk.subarray(from, from + chars)) < chars) return -1;
    this.ends[s] += chars;
    this.bytes += chars;
    return chars;
  }

  /** Fill free slots from src, a page each (the last may be partial), as many as are free and
   *  src has bytes for, one copy per chunk. Only whole pages copied before a short copy are
   *  kept (pipe_write drops the page it could not fill), with `faulted` set. Returns the bytes
   *  put in. */
  push(src: PipeSource): number {
    this.faulted = false;
    let n = 0;
    while (this.used < this.slots && src.remaining > 0) {
      const s = this.slotAt(this.used);
      const { chunk, at } = this.page(s);
      // Free slots from s to the end of its chunk (or of the ring).
      const chunkEnd = Math.min(this.slots, (Math.floor(s / CHUNK_SLOTS) + 1) * CHUNK_SLOTS);
      const pages = Math.min(this.slots - this.used, chunkEnd - s);
      const len = Math.min(pages * PAGE_SIZE, src.remaining);
      const got = src.fill(chunk.subarray(at, at + len));
      const kept = got === len ? len : got - (got % PAGE_SIZE);
      for (let off = 0; off < kept; off += PAGE_SIZE) {
        const t = (s + off / PAGE_SIZE) % this.slots;
        this.starts[t] = 0;
        this.ends[t] = Math.min(PAGE_SIZE, kept - off);
        this.used++;
      }
      this.bytes += kept;
      n += kept;
      if (got < len) { this.faulted = true; return n; }
    }
    return n;
  }
}
