// A TCP endpoint's send queue (Linux's write queue of sk_buffs with their headroom): what
// the application wrote and the peer has not acknowledged, in chunks that keep room for the
// IP and TCP headers in front of their data. A segment that starts a chunk never sent before
// is sent from the chunk itself — the packet is a view of it, with the headers written into
// the room — so its data is copied once, from the write into the chunk. Any other segment (a
// retransmission, one that spans chunks or starts inside one) is copied into a packet of its
// own. Sent bytes are never written again: the receiver may keep views of them. Full-size
// chunks come from the chunk pool and go back to it once acknowledged and read.

import { chunkPool } from './chunk_pool';
import { SLAB_MAX_REGION, Slab } from './slab';

/** Room a packet keeps in front of its IP header for the link's header (an Ethernet frame
 *  is then a view of the packet: link/ethernet.ts), rounded up. */
export const LINK_ROOM = 16;
/** Room before a chunk's data: the link's, an IPv6 header and a TCP header with the most
 *  options. */
export const HEADROOM = LINK_ROOM + 40 + 60;

/** Copy the next dst.length bytes of a source into dst; returns how many it could (fewer:
 *  the source faulted there). */
export type Fill = (dst: Uint8Array) => number;

interface Chunk {
  /** HEADROOM bytes, then the data (cap bytes of room). */
  buf: Uint8Array;
  len: number;
  /** A packet was made from this chunk's room: its headers may be in flight. */
  sent: boolean;
}

export class SendQueue {
  private chunks: Chunk[] = [];
  /** Where chunks of small writes come from (acknowledged in the order they were taken). */
  private readonly slab = new Slab();
  /** Index of the first chunk still queued, and bytes of it already acknowledged. */
  private head = 0;
  private headOff = 0;
  /** Bytes queued (written, not acknowledged). */
  bytes = 0;

  /** Copy data to the end of the queue (appendFrom with an array as the source). */
  append(data: Uint8Array, goal: number): void {
    let at = 0;
    this.appendFrom(data.length, goal, (dst) => {
      dst.set(data.subarray(at, at + dst.length));
      at += dst.length;
      return dst.length;
    });
  }

  /** Append len bytes that fill copies into the chunks, straight from their source (the
   *  application's memory: the one copy of a write). goal: a full segment (the MSS), the most
   *  a chunk holds. A chunk is sized to its data and, while unsent, grows (doubling, up to
   *  goal) to take what is written next, so coalesced small writes still leave as one view
   *  and no chunk holds more than twice its data. A short fill (the source faulted) ends the
   *  append there; returns the bytes appended. */
  appendFrom(len: number, goal: number, fill: Fill): number {
    goal = Math.max(goal, 1);
    let at = 0;
    const last = this.chunks.length - 1;
    const tail = last >= this.head ? this.chunks[last] : null;
    if (tail && !tail.sent) {
      const cap = tail.buf.length - HEADROOM;
      if (tail.len + len > cap && cap < goal) {
        const size = Math.min(goal, Math.max(tail.len + len, 2 * cap));
        // Grown to a full segment it is a pool chunk like any other (not 64 KiB of new memory
        // per write when writes are a little over the MSS).
        const buf = size === goal ? chunkPool.take(HEADROOM + size) : this.smallChunk(HEADROOM + size);
        buf.set(tail.buf.subarray(HEADROOM, HEADROOM + tail.len), HEADROOM);
        tail.buf = buf;
      }
      const k = Math.min(tail.buf.length - HEADROOM - tail.len, len);
      if (k > 0) {
        const got = fill(tail.buf.subarray(HEADROOM + tail.len, HEADROOM + tail.len + k));
        tail.len += got;
        at = got;
        if (got < k) { this.bytes += at; return at; }
      }
    }
    while (at < len) {
      const k = Math.min(goal, len - at);
      const buf = k === goal ? chunkPool.take(HEADROOM + k) : this.smallChunk(HEADROOM + k);
      const got = fill(buf.subarray(HEADROOM, HEADROOM + k));
      if (got === 0) { chunkPool.release(buf.buffer); break; }
      this.chunks.push({ buf, len: got, sent: false });
      at += got;
      if (got < k) break;
    }
    this.bytes += at;
    return at;
  }

  /** A chunk short of a full segment: from the slab when small. */
  private smallChunk(size: number): Uint8Array {
    return size <= SLAB_MAX_REGION ? this.slab.take(size) : new Uint8Array(size);
  }

  /** Take chunk (HEADROOM bytes, then len bytes of data; held once by the caller, who hands
   *  that hold over) as the queue's next chunk: data a host socket read straight into it. */
  adopt(chunk: Uint8Array, len: number): void {
    this.chunks.push({ buf: chunk, len, sent: false });
    this.bytes += len;
  }

  /** The first n bytes were acknowledged. */
  dropAcked(n: number): void {
    this.bytes -= n;
    while (n > 0 && this.head < this.chunks.length) {
      const avail = this.chunks[this.head].len - this.headOff;
      if (n >= avail) {
        // The peer has it: the queue lets go (a view the receiver kept still holds it).
        chunkPool.release(this.chunks[this.head].buf.buffer);
        this.head++;
        this.headOff = 0;
        n -= avail;
      } else {
        this.headOff += n;
        n = 0;
      }
    }
    // Drop the acknowledged chunks' slots now and then, not on every ACK.
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  /** Drop everything (the connection is gone). A packet made from a chunk may still be on
   *  its way, so the chunks are left to the garbage collector, not given back to the pool. */
  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.headOff = 0;
    this.bytes = 0;
  }

  /** Where a segment starting off bytes past the first unacknowledged one should end so the
   *  next one starts a chunk again: the rest of its chunk when off falls inside one (a window
   *  cut the last segment short), else no limit. */
  segmentLimit(off: number): number {
    let i = this.head;
    let skip = off + this.headOff;
    while (i < this.chunks.length && skip >= this.chunks[i].len) { skip -= this.chunks[i].len; i++; }
    const c = this.chunks[i];
    return !c || skip === 0 ? Infinity : c.len - skip;
  }

  /** A packet of hdr header bytes and then the len queued bytes starting off bytes past the
   *  first unacknowledged one (hdr ≤ HEADROOM - LINK_ROOM), with LINK_ROOM bytes of its own
   *  in front of it: a view of the chunk when it can be, else a copy. */
  packet(hdr: number, off: number, len: number): Uint8Array {
    let i = this.head;
    let skip = off + this.headOff;
    while (i < this.chunks.length && skip >= this.chunks[i].len) { skip -= this.chunks[i].len; i++; }
    const c = this.chunks[i];
    if (len > 0 && c && skip === 0 && !c.sent && len <= c.len && hdr <= HEADROOM - LINK_ROOM) {
      c.sent = true;
      return c.buf.subarray(HEADROOM - hdr, HEADROOM + len);
    }
    const pkt = new Uint8Array(LINK_ROOM + hdr + len).subarray(LINK_ROOM);
    let at = hdr;
    let left = len;
    while (left > 0 && i < this.chunks.length) {
      const ch = this.chunks[i++];
      const k = Math.min(ch.len - skip, left);
      pkt.set(ch.buf.subarray(HEADROOM + skip, HEADROOM + skip + k), at);
      at += k;
      left -= k;
      skip = 0;
    }
    return pkt;
  }
}
