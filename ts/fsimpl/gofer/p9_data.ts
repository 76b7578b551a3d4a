// P9Data: FileData over Tread/Twrite on an open fid, for servers that donate no fd (diod).
// Every byte read is a Tread, at most the session's msize each; mappings copy pages the same
// way. Sequential reads read ahead (Linux's readahead, for a file system whose every read is a
// round trip): a read that starts where this open file's last one ended doubles the window
// of bytes asked for past it (up to MAX_READ_AHEAD), any other read resets it, and a
// window's Treads go out together (readMany: one wait). The bytes past what the program asked
// for are kept on the file's node (GoferNode.readAhead, shared by its opens) until they are
// read or a close lets go of them, trusted for the session's window as its attributes are,
// and dropped by any write or truncation through the sandbox.

import type { MappingBacking } from '../../mm/backing';
import type { Client } from '../../p9/client';
import type { FileData } from './file_data';
import type { Stat } from '../../abi/linux/stat';
import { statOfAttr, type GoferNode } from './session';

/** Most bytes one sequential read asks for past its own. */
export const MAX_READ_AHEAD = 1 << 20;

export class P9Data implements FileData {
  private released = false;
  private mappers = 0;
  /** Where the last read ended (a read from there is sequential), and the window. */
  private next = 0;
  private window = 0;

  /** node: the file's, to keep what was read ahead (none: no read-ahead). */
  constructor(private readonly client: Client, private readonly fid: number, private readonly node: GoferNode | null = null) {}

  pread(dst: Uint8Array, offset: number): number {
    const n = this.node;
    this.window = n && offset === this.next ? Math.min(MAX_READ_AHEAD, Math.max(this.window * 2, dst.length)) : 0;
    let done = n ? this.fromReadAhead(n, dst, offset) : 0;
    while (done < dst.length) {
      const want = dst.length - done;
      const at = performance.now();
      const b = this.window > 0 ? this.client.readMany(this.fid, offset + done, want + this.window) : this.client.read(this.fid, offset + done, want);
      if (b.length === 0) break;
      const take = Math.min(b.length, want);
      dst.set(b.subarray(0, take), done);
      done += take;
      if (n && b.length > take) n.readAhead = { offset: offset + done, data: b.subarray(take), at };
    }
    this.next = offset + done;
    return done;
  }

  /** Bytes at offset from what a read of node ahead kept, while fresh: how many were copied. */
  private fromReadAhead(n: GoferNode, dst: Uint8Array, offset: number): number {
    const ra = n.readAhead;
    if (!ra || offset < ra.offset || offset >= ra.offset + ra.data.length) return 0;
    if (performance.now() - ra.at >= n.session.ttlOf(n)) {
      n.readAhead = null;
      return 0;
    }
    const from = offset - ra.offset;
    const k = Math.min(dst.length, ra.data.length - from);
    dst.set(ra.data.subarray(from, from + k));
    // Used up: a file read to its end keeps nothing.
    if (from + k === ra.data.length) n.readAhead = null;
    return k;
  }

  pwrite(src: Uint8Array, offset: number): number {
    if (this.node) this.node.readAhead = null;
    let done = 0;
    while (done < src.length) {
      const n = this.client.write(this.fid, offset + done, src.subarray(done));
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  size(): number { return this.client.getattr(this.fid).size; }

  stat(): Stat { return statOfAttr(this.client.getattr(this.fid)); }

  fsync(datasync: boolean): void { this.client.fsync(this.fid, datasync); }

  backing(name: string): MappingBacking {
    return {
      name,
      fill: (mf, fileOffset, mfOffset, length) => {
        const buf = new Uint8Array(length);
        const n = this.pread(buf, fileOffset);
        if (n > 0) mf.write(mfOffset, buf.subarray(0, n));
      },
      size: () => this.size(),
      hold: () => { this.mappers++; },
      drop: () => { this.mappers--; this.maybeClunk(); },
    };
  }

  release(): void {
    // What was read ahead lives while the file is open (not in every node ever read).
    if (this.node) this.node.readAhead = null;
    this.released = true;
    this.maybeClunk();
  }

  private maybeClunk(): void {
    if (!this.released || this.mappers > 0) return;
    this.released = false; // once
    this.mappers = -1;
    this.client.clunkLater(this.fid);
  }
}
