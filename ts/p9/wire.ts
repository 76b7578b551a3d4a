// Wire encoding of 9P: little-endian integers, strings as len[2] + bytes (a name exactly as the
// host has it: ts/abi/byte_string.ts), qids as type[1] version[4] path[8]. The Decoder checks
// every read against the message's end and throws DecodeError on the first overrun, so a
// malformed reply can never be read past its bounds; the client turns that into EIO.

import { bytesToString, stringBytes } from '../abi/byte_string';

export class DecodeError extends Error {}

/** A 9P qid: the server's identity of a file. path is the inode-like identity (a bigint:
 *  servers use all 64 bits). */
export interface Qid {
  type: number;
  version: number;
  path: bigint;
}

export const QID_SIZE = 13;


export class Encoder {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(x: number): this { this.room(1); this.view.setUint8(this.len, x); this.len += 1; return this; }
  u16(x: number): this { this.room(2); this.view.setUint16(this.len, x, true); this.len += 2; return this; }
  u32(x: number): this { this.room(4); this.view.setUint32(this.len, x >>> 0, true); this.len += 4; return this; }
  u64(x: number | bigint): this {
    this.room(8);
    this.view.setBigUint64(this.len, BigInt.asUintN(64, typeof x === 'bigint' ? x : BigInt(Math.trunc(x))), true);
    this.len += 8;
    return this;
  }
  str(s: string | Uint8Array): this {
    const b = typeof s === 'string' ? stringBytes(s) : s;
    if (b.length > 0xffff) throw new RangeError('9P string longer than 65535 bytes');
    this.u16(b.length);
    return this.bytes(b);
  }
  bytes(b: Uint8Array): this { this.room(b.length); this.buf.set(b, this.len); this.len += b.length; return this; }
  qid(q: Qid): this { return this.u8(q.type).u32(q.version).u64(q.path); }

  get length(): number { return this.len; }

  /** Starts over, keeping the buffer (unless a big message grew it: that one is let go). */
  reset(): this {
    if (this.buf.length > 64 * 1024) {
      this.buf = new Uint8Array(256);
      this.view = new DataView(this.buf.buffer);
    }
    this.len = 0;
    return this;
  }

  /** The bytes written, as they are (for payloads that are not whole messages). */
  raw(): Uint8Array { return this.buf.slice(0, this.len); }

  /** The message with size[4] patched in at the front (the first u32 written must be it). */
  finish(): Uint8Array {
    this.view.setUint32(0, this.len, true);
    return this.buf.slice(0, this.len);
  }
}

export class Decoder {
  private pos: number;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array, start = 0, private readonly end = buf.length) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): number {
    const at = this.pos;
    if (n < 0 || at + n > this.end) throw new DecodeError(`9P message truncated at ${at} (+${n} > ${this.end})`);
    this.pos += n;
    return at;
  }

  u8(): number { return this.view.getUint8(this.need(1)); }
  u16(): number { return this.view.getUint16(this.need(2), true); }
  u32(): number { return this.view.getUint32(this.need(4), true); }
  /** A u64 that must fit a JS number exactly (sizes, offsets, times); DecodeError past 2^53. */
  u64(): number {
    // Two halves, no BigInt (a getattr has a dozen of these): exact up to 2^53 - 1.
    const at = this.need(8);
    const hi = this.view.getUint32(at + 4, true);
    if (hi > 0x1fffff) throw new DecodeError(`9P u64 ${this.view.getBigUint64(at, true)} out of range`);
    return hi * 2 ** 32 + this.view.getUint32(at, true);
  }
  /** A u64 kept whole (qid paths, masks). */
  u64big(): bigint { return this.view.getBigUint64(this.need(8), true); }
  /** A u64 that may use all its bits where only its low bits matter (a signed i64 time). */
  i64(): number {
    // hi * 2^32 is exact, and the one rounding of the sum is Number(BigInt)'s.
    const at = this.need(8);
    return this.view.getInt32(at + 4, true) * 2 ** 32 + this.view.getUint32(at, true);
  }
  strBytes(): Uint8Array {
    const n = this.u16();
    const at = this.need(n);
    return this.buf.subarray(at, at + n);
  }
  str(): string { return bytesToString(this.strBytes()); }
  bytes(n: number): Uint8Array {
    const at = this.need(n);
    return this.buf.subarray(at, at + n);
  }
  qid(): Qid { return { type: this.u8(), version: this.u32(), path: this.u64big() }; }

  get remaining(): number { return this.end - this.pos; }
  /** The message must be consumed exactly: trailing bytes are a malformed reply too. */
  done(): void {
    if (this.pos !== this.end) throw new DecodeError(`9P message has ${this.end - this.pos} trailing bytes`);
  }
}
