// Recycled send chunks (in the spirit of Linux's page-fragment recycling): a bulk transfer
// would otherwise allocate a fresh 64 KiB buffer per segment, and V8 answers that much new
// external memory with full collections. A full-segment chunk's buffer is shared by the
// sender's queue (until the peer acknowledges it) and, over loopback, by the views the
// receiver's queue keeps of it (until the application reads them); each holder counts, and
// the last to let go gives the buffer back. Holders that vanish without letting go (a
// connection torn down) leave the buffer to the garbage collector, never back here: a
// buffer is only reused once nobody can still see it.

/** Most buffers kept free, per size (a 4 MiB send buffer and a 4 MiB receive window). */
const MAX_FREE = 128;

export class ChunkPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private readonly refs = new WeakMap<object, number>();

  /** A buffer of size bytes, held once by the caller; its old contents are stale. */
  take(size: number): Uint8Array {
    const buf = this.free.get(size)?.pop() ?? new ArrayBuffer(size);
    this.refs.set(buf, 1);
    return new Uint8Array(buf);
  }

  /** Hold view's buffer once more if it is one of ours; false otherwise. */
  retain(view: Uint8Array): boolean {
    const n = this.refs.get(view.buffer);
    if (n === undefined) return false;
    this.refs.set(view.buffer, n + 1);
    return true;
  }

  owns(view: Uint8Array): boolean { return this.refs.has(view.buffer); }

  /** Let go of buf once (no-op for a buffer not ours); the last holder recycles it. */
  release(buf: ArrayBufferLike): void {
    const n = this.refs.get(buf);
    if (n === undefined) return;
    if (n > 1) { this.refs.set(buf, n - 1); return; }
    this.refs.delete(buf);
    if (!(buf instanceof ArrayBuffer)) return;
    let list = this.free.get(buf.byteLength);
    if (!list) this.free.set(buf.byteLength, (list = []));
    if (list.length < MAX_FREE) list.push(buf);
  }
}

/** One pool for the sentry: connections come and go, the buffers stay warm. */
export const chunkPool = new ChunkPool();
