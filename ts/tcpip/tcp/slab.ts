// Small buffers carved one after another out of a larger one (Linux's page_frag, which
// tcp_sendmsg fills with small writes): a typed array of more than 64 bytes has its memory
// outside V8's heap, and making one per small segment (its data chunk, the receiver's copy,
// a bare ACK) costs an allocation, a backing store and garbage-collector work each time. A
// region is never handed out twice: it lives as long as a view of it, and the slab as long
// as any region. The users take regions in the order they let go of them (a connection's
// send queue, its receive queue), so at most the slab in use is held beyond the data.

/** A slab's size: Linux's page_frag (SKB_FRAG_PAGE_ORDER) is 32 KiB too. */
export const SLAB_BYTES = 32 << 10;
/** The largest region worth a slab's room: larger ones are allocated alone. */
export const SLAB_MAX_REGION = 4 << 10;

export class Slab {
  private buf: Uint8Array | null = null;
  private at = 0;

  /** n zeroed bytes (n ≤ SLAB_MAX_REGION), a view no one else is given. */
  take(n: number): Uint8Array {
    let b = this.buf;
    if (b === null || this.at + n > b.length) {
      b = this.buf = new Uint8Array(SLAB_BYTES);
      this.at = 0;
    }
    const start = this.at;
    // Regions start on 8 bytes, as a separate allocation would.
    this.at = (start + n + 7) & ~7;
    return b.subarray(start, start + n);
  }
}
